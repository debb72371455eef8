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
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pprofile/pprofileotlp"

	"hotpath.test/e2e/otlpclient/internal/convert"
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

	src, err := convert.Load(*pprofPath)
	check(err)
	attrs, err := convert.ParseAttributes(*resource)
	check(err)
	pd, err := convert.FromPprof(src, convert.Options{Resource: attrs, Resources: *resources, SampleTypes: strings.Split(*sampleType, ",")})
	check(err)

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

func check(err error) {
	if err != nil {
		fail("%v", err)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "otlpclient: "+format+"\n", args...)
	os.Exit(1)
}
