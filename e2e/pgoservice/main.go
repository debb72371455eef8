// Command pgoservice is a small Go HTTP service doing real CPU work per request (JSON, sorting,
// hashing), instrumented with the real dd-trace-go profiler and configured only through the
// environment. The PGO end-to-end test builds it without a profile, lets Hotpath collect its
// profiles under load, builds it again with the default.pgo that `hotpath pgo` writes next to
// this file, and checks that the rebuilt service reports pgo:true.
//
// -trace adds dd-trace-go's tracer (one web span per request, resource "GET /catalog"), so that
// with DD_PROFILING_ENDPOINT_COUNT_ENABLED=true its profiles carry endpoint_counts and `hotpath
// impact` can compute CPU per request; GET /rusage (never traced) answers the process's own CPU
// time and requests served, for comparing with the report over the same window.
package main

import (
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"sort"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/DataDog/dd-trace-go/v2/ddtrace/ext"
	"github.com/DataDog/dd-trace-go/v2/ddtrace/tracer"
	"github.com/DataDog/dd-trace-go/v2/profiler"
)

type item struct {
	ID    int      `json:"id"`
	Name  string   `json:"name"`
	Score float64  `json:"score"`
	Tags  []string `json:"tags"`
}

func score(i int) float64 {
	x := uint64(i)*0x9E3779B97F4A7C15 + 1
	x ^= x >> 31
	return float64(x%100000) / 100
}

var served atomic.Int64

// handle builds a catalog page: generate, encode, decode, sort and hash items.
func handle(w http.ResponseWriter, r *http.Request) {
	served.Add(1)
	n, _ := strconv.Atoi(r.URL.Query().Get("n"))
	if n <= 0 {
		n = 400
	}
	items := make([]item, n)
	for i := range items {
		items[i] = item{ID: i, Name: "item-" + strconv.Itoa(i), Score: score(i), Tags: []string{"a", "b", strconv.Itoa(i % 7)}}
	}
	buf, _ := json.Marshal(items)
	var back []item
	_ = json.Unmarshal(buf, &back)
	sort.Slice(back, func(a, b int) bool { return back[a].Score > back[b].Score })
	sum := sha256.Sum256(buf)
	fmt.Fprintf(w, "%x %d\n", sum[:4], len(back))
}

// endpoint is the resource of the web span of every traced request (all paths serve the catalog).
const endpoint = "GET /catalog"

// tracing is set by -trace; handleVariety then leaves the span labels to the tracer.
var tracing bool

// traced runs next in a root web span, as dd-trace-go's net/http integration does: the tracer
// counts the span's endpoint for the profiler and labels the request's CPU samples with it.
func traced(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		span, ctx := tracer.StartSpanFromContext(r.Context(), "http.request",
			tracer.ResourceName(endpoint), tracer.SpanType(ext.SpanTypeWeb), tracer.Tag(ext.HTTPMethod, r.Method))
		next(w, r.WithContext(ctx))
		span.Finish()
	}
}

// rusage answers this process's CPU time (getrusage: user + system) and the requests served.
func rusage(w http.ResponseWriter, _ *http.Request) {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]int64{"cpuNanos": ru.Utime.Nano() + ru.Stime.Nano(), "requests": served.Load()})
}

func main() {
	duration := flag.Duration("duration", 6*time.Second, "how long to serve")
	period := flag.Duration("period", 2*time.Second, "profile upload period")
	profile := flag.Bool("profile", true, "run the dd-trace-go profiler (off for CPU measurements)")
	mode := flag.String("mode", "catalog", "catalog: one handler; variety: each request through a chain of 16-47 generated calls with dd-trace-go's span labels, for production-like stack variety")
	trace := flag.Bool("trace", false, "run dd-trace-go's tracer, one web span per request (configured by DD_* variables, e.g. DD_TRACE_AGENT_URL)")
	flag.Parse()
	if *trace {
		tracing = true
		if err := tracer.Start(); err != nil {
			log.Fatal(err)
		}
	}
	if *profile {
		if err := profiler.Start(profiler.WithPeriod(*period), profiler.WithProfileTypes(profiler.CPUProfile)); err != nil {
			log.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	handler := handle
	switch *mode {
	case "catalog":
	case "variety":
		handler = handleVariety
	default:
		log.Fatalf("unknown -mode %q (catalog or variety)", *mode)
	}
	if *trace {
		handler = traced(handler)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/rusage", rusage)
	mux.HandleFunc("/", handler)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	time.Sleep(*duration)
	_ = srv.Close()
	if *profile {
		profiler.Stop()
	}
	if *trace {
		tracer.Stop()
	}
	// For benchmarks: the CPU this process used, and the requests it served.
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	fmt.Printf("cpu_seconds=%.6f requests=%d\n", cpu.Seconds(), served.Load())
}
