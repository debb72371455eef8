// Package convert turns a Go pprof profile into OpenTelemetry profiles with the API of
// go.opentelemetry.io/collector/pdata/pprofile: one ProfilesDictionary shared by every profile,
// each table starting with its zero entry as the format requires, one sample type per profile.
package convert

import (
	"crypto/rand"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/google/pprof/profile"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pprofile"
)

// Options says what to build from the pprof.
type Options struct {
	// Resource attributes, in order.
	Resource [][2]string
	// Resources: the profiles are repeated under this many resources; with more than one, each
	// gets the attribute copy=N.
	Resources int
	// SampleTypes: one OTLP profile per pprof sample type, as "type/unit".
	SampleTypes []string
}

// FromPprof returns the OTLP profiles of src.
func FromPprof(src *profile.Profile, o Options) (pprofile.Profiles, error) {
	pd := pprofile.NewProfiles()
	conv := newConverter(pd.Dictionary())
	for r := 0; r < max(o.Resources, 1); r++ {
		rp := pd.ResourceProfiles().AppendEmpty()
		for _, kv := range o.Resource {
			rp.Resource().Attributes().PutStr(kv[0], kv[1])
		}
		if o.Resources > 1 {
			rp.Resource().Attributes().PutInt("copy", int64(r))
		}
		sp := rp.ScopeProfiles().AppendEmpty()
		sp.Scope().SetName("hotpath.test/e2e/otlpclient")
		for _, st := range o.SampleTypes {
			if err := conv.addProfile(sp.Profiles().AppendEmpty(), src, st); err != nil {
				return pd, err
			}
		}
	}
	return pd, nil
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
func (c *converter) addProfile(p pprofile.Profile, src *profile.Profile, sampleType string) error {
	typ, unit, _ := strings.Cut(sampleType, "/")
	vi := -1
	for j, st := range src.SampleType {
		if st.Type == typ && st.Unit == unit {
			vi = j
		}
	}
	if vi < 0 {
		return fmt.Errorf("the pprof has no sample type %s", sampleType)
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
	return nil
}

// Load reads a pprof file (gzip or raw).
func Load(path string) (*profile.Profile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return profile.Parse(f)
}

// ParseAttributes reads "k=v,k=v" into ordered pairs.
func ParseAttributes(s string) ([][2]string, error) {
	var out [][2]string
	if s == "" {
		return out, nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("attribute %q is not k=v", kv)
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}
