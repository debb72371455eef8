// Command otlpclient sends a Go pprof profile to an OTLP/HTTP profiles endpoint the way an
// OpenTelemetry exporter does: it converts the profile into go.opentelemetry.io/collector/pdata's
// pprofile model (ProfilesDictionary, stack table, one sample type per profile), marshals it with
// pprofileotlp.ExportRequest (protobuf or OTLP/JSON), optionally gzips it, POSTs it and decodes
// the ExportProfilesServiceResponse with pprofileotlp.ExportResponse.
//
// It prints one JSON line: {"status":200,"rejectedProfiles":0,"errorMessage":"","body":"..."}.
package main

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/pprof/profile"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pprofile"
	"go.opentelemetry.io/collector/pdata/pprofile/pprofileotlp"
)

type headerList []string

func (h *headerList) String() string     { return strings.Join(*h, ", ") }
func (h *headerList) Set(v string) error { *h = append(*h, v); return nil }

func main() {
	pprofPath := flag.String("pprof", "", "Go pprof file to send (gzip or raw)")
	endpoint := flag.String("endpoint", "", "OTLP/HTTP profiles URL, e.g. http://127.0.0.1:8080/v1development/profiles")
	encoding := flag.String("encoding", "proto", "request encoding: proto or json")
	compress := flag.Bool("gzip", false, "gzip the request (Content-Encoding: gzip)")
	resource := flag.String("resource", "", "resource attributes as k=v,k=v")
	sampleType := flag.String("sample-type", "cpu/nanoseconds", "which sample type of the pprof to send, type/unit; repeat with commas for one OTLP profile each")
	resources := flag.Int("resources", 1, "send the profile under this many resources (resource attribute copy=N added when more than one)")
	outPath := flag.String("out", "", "write the request body to this file instead of sending it")
	var headers headerList
	flag.Var(&headers, "header", "request header as 'Name: value' (repeatable)")
	flag.Parse()
	if *pprofPath == "" || (*endpoint == "" && *outPath == "") {
		fail("-pprof and -endpoint (or -out) are required")
	}

	f, err := os.Open(*pprofPath)
	check(err)
	src, err := profile.Parse(f)
	check(err)
	f.Close()

	var attrs [][2]string
	if *resource != "" {
		for _, kv := range strings.Split(*resource, ",") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				fail("resource attribute %q is not k=v", kv)
			}
			attrs = append(attrs, [2]string{k, v})
		}
	}

	pd := pprofile.NewProfiles()
	conv := newConverter(pd.Dictionary())
	for r := 0; r < *resources; r++ {
		rp := pd.ResourceProfiles().AppendEmpty()
		for _, kv := range attrs {
			rp.Resource().Attributes().PutStr(kv[0], kv[1])
		}
		if *resources > 1 {
			rp.Resource().Attributes().PutInt("copy", int64(r))
		}
		sp := rp.ScopeProfiles().AppendEmpty()
		sp.Scope().SetName("hotpath.test/e2e/otlpclient")
		for _, st := range strings.Split(*sampleType, ",") {
			conv.addProfile(sp.Profiles().AppendEmpty(), src, st)
		}
	}

	req := pprofileotlp.NewExportRequestFromProfiles(pd)
	var body []byte
	contentType := "application/x-protobuf"
	if *encoding == "json" {
		body, err = req.MarshalJSON()
		contentType = "application/json"
	} else {
		body, err = req.MarshalProto()
	}
	check(err)
	if *compress {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, err = zw.Write(body)
		check(err)
		check(zw.Close())
		body = buf.Bytes()
	}

	if *outPath != "" {
		check(os.WriteFile(*outPath, body, 0o644))
		return
	}
	httpReq, err := http.NewRequest(http.MethodPost, *endpoint, bytes.NewReader(body))
	check(err)
	httpReq.Header.Set("Content-Type", contentType)
	if *compress {
		httpReq.Header.Set("Content-Encoding", "gzip")
	}
	for _, h := range headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			fail("header %q is not 'Name: value'", h)
		}
		httpReq.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	client := &http.Client{Timeout: 60 * time.Second}
	res, err := client.Do(httpReq)
	check(err)
	resBody, err := io.ReadAll(res.Body)
	check(err)
	res.Body.Close()

	out := map[string]any{"status": res.StatusCode, "contentType": res.Header.Get("Content-Type"), "body": string(resBody)}
	if res.StatusCode == http.StatusOK {
		// What an exporter does with a success: read the ExportProfilesServiceResponse.
		resp := pprofileotlp.NewExportResponse()
		if *encoding == "json" {
			err = resp.UnmarshalJSON(resBody)
		} else {
			err = resp.UnmarshalProto(resBody)
		}
		check(err)
		out["rejectedProfiles"] = resp.PartialSuccess().RejectedProfiles()
		out["errorMessage"] = resp.PartialSuccess().ErrorMessage()
	}
	check(json.NewEncoder(os.Stdout).Encode(out))
}

// converter fills one ProfilesDictionary shared by every profile of the request, each table
// starting with its zero entry as the format requires, and deduplicating entries by value.
type converter struct {
	dict      pprofile.ProfilesDictionary
	strings   map[string]int32
	functions map[uint64]int32
	mappings  map[uint64]int32
	locations map[uint64]int32
	stacks    map[string]int32
	attrs     map[string]int32
}

func newConverter(dict pprofile.ProfilesDictionary) *converter {
	c := &converter{
		dict:      dict,
		strings:   map[string]int32{},
		functions: map[uint64]int32{},
		mappings:  map[uint64]int32{},
		locations: map[uint64]int32{},
		stacks:    map[string]int32{},
		attrs:     map[string]int32{},
	}
	c.str("")
	dict.MappingTable().AppendEmpty()
	dict.LocationTable().AppendEmpty()
	dict.FunctionTable().AppendEmpty()
	dict.LinkTable().AppendEmpty()
	dict.AttributeTable().AppendEmpty()
	dict.StackTable().AppendEmpty()
	return c
}

func (c *converter) str(s string) int32 {
	if i, ok := c.strings[s]; ok {
		return i
	}
	i := int32(c.dict.StringTable().Len())
	c.dict.StringTable().Append(s)
	c.strings[s] = i
	return i
}

func (c *converter) function(fn *profile.Function) int32 {
	if fn == nil {
		return 0
	}
	if i, ok := c.functions[fn.ID]; ok {
		return i
	}
	i := int32(c.dict.FunctionTable().Len())
	f := c.dict.FunctionTable().AppendEmpty()
	f.SetNameStrindex(c.str(fn.Name))
	f.SetSystemNameStrindex(c.str(fn.SystemName))
	f.SetFilenameStrindex(c.str(fn.Filename))
	f.SetStartLine(fn.StartLine)
	c.functions[fn.ID] = i
	return i
}

func (c *converter) mapping(m *profile.Mapping) int32 {
	if m == nil {
		return 0
	}
	if i, ok := c.mappings[m.ID]; ok {
		return i
	}
	i := int32(c.dict.MappingTable().Len())
	om := c.dict.MappingTable().AppendEmpty()
	om.SetMemoryStart(m.Start)
	om.SetMemoryLimit(m.Limit)
	om.SetFileOffset(m.Offset)
	om.SetFilenameStrindex(c.str(m.File))
	c.mappings[m.ID] = i
	return i
}

func (c *converter) location(l *profile.Location) int32 {
	if i, ok := c.locations[l.ID]; ok {
		return i
	}
	i := int32(c.dict.LocationTable().Len())
	ol := c.dict.LocationTable().AppendEmpty()
	ol.SetMappingIndex(c.mapping(l.Mapping))
	ol.SetAddress(l.Address)
	for _, line := range l.Line {
		oline := ol.Lines().AppendEmpty()
		oline.SetFunctionIndex(c.function(line.Function))
		oline.SetLine(line.Line)
		oline.SetColumn(line.Column)
	}
	c.locations[l.ID] = i
	return i
}

func (c *converter) stack(locs []*profile.Location) int32 {
	idx := make([]int32, len(locs))
	var key strings.Builder
	for j, l := range locs {
		idx[j] = c.location(l)
		key.WriteString(strconv.Itoa(int(idx[j])))
		key.WriteByte(',')
	}
	if i, ok := c.stacks[key.String()]; ok {
		return i
	}
	i := int32(c.dict.StackTable().Len())
	st := c.dict.StackTable().AppendEmpty()
	st.LocationIndices().FromRaw(idx)
	c.stacks[key.String()] = i
	return i
}

func (c *converter) attribute(key, unit string, set func(pcommon.Value), id string) int32 {
	if i, ok := c.attrs[id]; ok {
		return i
	}
	i := int32(c.dict.AttributeTable().Len())
	a := c.dict.AttributeTable().AppendEmpty()
	a.SetKeyStrindex(c.str(key))
	a.SetUnitStrindex(c.str(unit))
	set(a.Value())
	c.attrs[id] = i
	return i
}

// addProfile fills p with the samples of src for one of its sample types ("cpu/nanoseconds").
func (c *converter) addProfile(p pprofile.Profile, src *profile.Profile, sampleType string) {
	typ, unit, _ := strings.Cut(sampleType, "/")
	vi := -1
	for j, st := range src.SampleType {
		if st.Type == typ && st.Unit == unit {
			vi = j
		}
	}
	if vi < 0 {
		fail("the pprof has no sample type %s", sampleType)
	}
	p.SampleType().SetTypeStrindex(c.str(typ))
	p.SampleType().SetUnitStrindex(c.str(unit))
	if src.PeriodType != nil {
		p.PeriodType().SetTypeStrindex(c.str(src.PeriodType.Type))
		p.PeriodType().SetUnitStrindex(c.str(src.PeriodType.Unit))
	}
	p.SetPeriod(src.Period)
	p.SetTime(pcommon.Timestamp(src.TimeNanos))
	p.SetDurationNano(uint64(src.DurationNanos))
	var id [16]byte
	_, _ = rand.Read(id[:])
	p.SetProfileID(pprofile.ProfileID(id))
	for _, s := range src.Sample {
		sample := p.Samples().AppendEmpty()
		sample.SetStackIndex(c.stack(s.Location))
		sample.Values().Append(s.Value[vi])
		for k, vs := range s.Label {
			for _, v := range vs {
				sample.AttributeIndices().Append(c.attribute(k, "", func(val pcommon.Value) { val.SetStr(v) }, "s:"+k+"="+v))
			}
		}
		for k, ns := range s.NumLabel {
			for j, n := range ns {
				u := ""
				if j < len(s.NumUnit[k]) {
					u = s.NumUnit[k][j]
				}
				sample.AttributeIndices().Append(c.attribute(k, u, func(val pcommon.Value) { val.SetInt(n) }, "n:"+k+"="+strconv.FormatInt(n, 10)+u))
			}
		}
	}
}

func check(err error) {
	if err != nil {
		fail("%v", err)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "otlpclient: "+format+"\n", args...)
	os.Exit(1)
}
