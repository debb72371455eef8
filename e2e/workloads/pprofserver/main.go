// Command pprofserver is a Go service as most teams run one: it imports
// net/http/pprof, serves /debug/pprof/ on -addr and keeps its workers busy in
// named functions (the burn package's JSON, sort, hash and tree requests), so
// that a scraper pulling /debug/pprof/profile gets a CPU profile worth
// building a default.pgo from.
//
// Usage:
//
//	pprofserver [-addr 127.0.0.1:0] [-workers 1] [-mode mixed] [-hold-cpu-profile]
//
// It prints "listening on HOST:PORT" on stdout once it accepts connections.
// With -hold-cpu-profile it starts a CPU profile of its own (to io.Discard) and
// keeps it running, as dd-trace-go's profiler does, so every
// /debug/pprof/profile request is answered 500 "Could not enable CPU
// profiling: cpu profiling already in use". It runs until killed.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime/pprof"

	"hotpath.local/e2e/workloads/internal/burn"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "`address` to serve /debug/pprof/ on (port 0: any free port)")
	workers := flag.Int("workers", 1, "worker goroutines burning CPU (0: none)")
	mode := flag.String("mode", "mixed", "workload of the workers (see cpuburn -mode)")
	hold := flag.Bool("hold-cpu-profile", false, "keep a CPU profile of our own running, so /debug/pprof/profile answers 500")
	flag.Parse()
	if flag.NArg() > 0 || *workers < 0 {
		flag.Usage()
		os.Exit(2)
	}
	cfg := burn.Config{Mode: *mode, Workers: *workers, Variety: 1, Seed: 1}
	if _, err := burn.Weights(cfg); err != nil {
		fatalf("%v", err)
	}
	if *hold {
		if err := pprof.StartCPUProfile(io.Discard); err != nil {
			fatalf("start CPU profile: %v", err)
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fatalf("%v", err)
	}
	if *workers > 0 {
		go func() {
			if _, err := burn.Run(context.Background(), cfg, make(chan struct{})); err != nil {
				fatalf("workload: %v", err)
			}
		}()
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	// http.DefaultServeMux holds the /debug/pprof/ handlers registered by the import.
	fatalf("%v", http.Serve(ln, nil))
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "pprofserver: "+format+"\n", args...)
	os.Exit(1)
}
