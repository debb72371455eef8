// Command tracedservice is a Go HTTP service instrumented as a user's fully traced service is:
// dd-trace-go's tracer (one web span per request, so its profiles carry endpoint_counts and
// samples carry the `trace endpoint` label) beside dd-trace-go's profiler, both configured
// through the environment (DD_TRACE_AGENT_URL, DD_SERVICE, DD_VERSION,
// DD_PROFILING_ENDPOINT_COUNT_ENABLED, ...).
//
// GET /work and GET /light do a fixed amount of CPU work each (/work four times /light's).
// GET /rusage, not traced, answers the process's own CPU time (getrusage, user + system) and
// the requests served, so a test can compare Hotpath's CPU per request with the process's.
// -hold makes each request leave a parked goroutine holding memory behind (up to maxHeld): the
// stand-in for a build whose inlining made long-running goroutines heavier. It defaults to the
// build-time switch holdDefault (-ldflags=-X=main.holdDefault=true), so that a test can build the
// "bad" binary the way a PGO build would differ: at build time.
// The service prints its address, serves until stdin closes, then stops the tracer and the
// profiler, which flush their last payloads.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"hotpath.local/e2e/clients/internal/cpuwork"

	"github.com/DataDog/dd-trace-go/v2/ddtrace/ext"
	"github.com/DataDog/dd-trace-go/v2/ddtrace/tracer"
	"github.com/DataDog/dd-trace-go/v2/profiler"
)

// holdDefault is the build-time default of -hold.
var holdDefault = "false"

// maxHeld bounds the goroutines -hold leaves behind (and so the memory: 256 KiB each, 250 MiB in
// all); each call parks heldPerCall of them, so at the test's request rates the bound is reached
// within a few seconds and the heavier build is steady after warm-up. Allocations this large are
// sampled by the heap profile about four times in ten, so the rise stands well above the noise.
const maxHeld = 1000

const heldPerCall = 8

var (
	heldCount atomic.Int64
	served    atomic.Int64
	sink      atomic.Uint32
	held      = make(chan []byte)
)

// traced runs fn in a root web span named after the endpoint, as dd-trace-go's net/http
// integration does.
func traced(resource string, units int, hold bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		span, ctx := tracer.StartSpanFromContext(r.Context(), "http.request",
			tracer.ResourceName(resource), tracer.SpanType(ext.SpanTypeWeb), tracer.Tag(ext.HTTPMethod, r.Method))
		_ = ctx
		var x byte
		for range units {
			x ^= cpuwork.Do(4000)
		}
		sink.Add(uint32(x))
		if hold {
			holdMemory()
		}
		served.Add(1)
		fmt.Fprintf(w, "%d\n", x)
		span.Finish()
	}
}

// holdMemory parks heldPerCall goroutines, each holding 256 KiB until the process exits, up to
// maxHeld of them.
//
//go:noinline
func holdMemory() {
	for i := 0; i < heldPerCall; i++ {
		if heldCount.Add(1) > maxHeld {
			return
		}
		buf := make([]byte, 256<<10)
		go func() { held <- buf }()
	}
}

func rusage(w http.ResponseWriter, _ *http.Request) {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]int64{"cpuNanos": ru.Utime.Nano() + ru.Stime.Nano(), "requests": served.Load()})
}

func main() {
	period := flag.Duration("period", 2*time.Second, "profile upload period")
	units := flag.Int("units", 10, "CPU work units of one /light request; /work does four times as many")
	hold := flag.Bool("hold", holdDefault == "true", "each request leaves a goroutine holding 64 KiB behind (at most 1000)")
	flag.Parse()
	if err := tracer.Start(); err != nil {
		log.Fatal(err)
	}
	if err := profiler.Start(profiler.WithPeriod(*period),
		profiler.WithProfileTypes(profiler.CPUProfile, profiler.HeapProfile, profiler.GoroutineProfile)); err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /work", traced("GET /work", 4**units, *hold))
	mux.Handle("GET /light", traced("GET /light", *units, *hold))
	mux.HandleFunc("GET /rusage", rusage)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	fmt.Printf("listening on http://%s\n", ln.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = srv.Close()
	profiler.Stop()
	tracer.Stop()
	log.Printf("stopped after %d requests", served.Load())
}
