// Command collector sends a Go pprof profile the way an OpenTelemetry Collector forwards
// profiles: through the Collector's own OTLP/HTTP exporter (go.opentelemetry.io/collector/
// exporter/otlphttpexporter) with its default settings (protobuf, gzip), the sending queue off
// so that the result of the export is known when ConsumeProfiles returns, and no retries.
//
// It prints one JSON line: {"error":""} on success, else the exporter's error.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/exporter/otlphttpexporter"
	"go.opentelemetry.io/collector/exporter/xexporter"

	"hotpath.test/e2e/otlpclient/internal/convert"
)

func main() {
	pprofPath := flag.String("pprof", "", "Go pprof file to send (gzip or raw)")
	endpoint := flag.String("endpoint", "", "the exporter's base endpoint, e.g. http://127.0.0.1:8126 (it appends /v1development/profiles)")
	apiKey := flag.String("key", "", "API key, sent as the header Authorization: Bearer KEY")
	encoding := flag.String("encoding", "proto", "the exporter's encoding: proto or json")
	resource := flag.String("resource", "", "resource attributes as k=v,k=v")
	sampleType := flag.String("sample-type", "cpu/nanoseconds", "sample types of the pprof to send, type/unit, comma-separated: one OTLP profile each")
	flag.Parse()
	if *pprofPath == "" || *endpoint == "" {
		fail("-pprof and -endpoint are required")
	}
	src, err := convert.Load(*pprofPath)
	check(err)
	attrs, err := convert.ParseAttributes(*resource)
	check(err)
	pd, err := convert.FromPprof(src, convert.Options{Resource: attrs, SampleTypes: strings.Split(*sampleType, ",")})
	check(err)

	factory := otlphttpexporter.NewFactory()
	cfg := factory.CreateDefaultConfig().(*otlphttpexporter.Config)
	cfg.ClientConfig.Endpoint = *endpoint
	cfg.ClientConfig.Headers.Set("Authorization", configopaque.String("Bearer "+*apiKey))
	cfg.Encoding = otlphttpexporter.EncodingType(*encoding)
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	cfg.RetryConfig.Enabled = false

	ctx := context.Background()
	exp, err := factory.(xexporter.Factory).CreateProfiles(ctx, exportertest.NewNopSettings(factory.Type()), cfg)
	check(err)
	check(exp.Start(ctx, componenttest.NewNopHost()))
	exportErr := exp.ConsumeProfiles(ctx, pd)
	check(exp.Shutdown(ctx))
	out := map[string]string{"error": ""}
	if exportErr != nil {
		out["error"] = exportErr.Error()
	}
	check(json.NewEncoder(os.Stdout).Encode(out))
}

func check(err error) {
	if err != nil {
		fail("%v", err)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "collector: "+format+"\n", args...)
	os.Exit(1)
}
