// Command heapprof allocates memory in a few recognizable places and writes
// a heap profile with pprof.WriteHeapProfile. Hotpath uses the result to test
// the error path where a heap profile is given where a CPU profile is needed.
//
// Usage:
//
//	heapprof -o heap.pprof [-mb 64]
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
)

// Set before any allocation of interest so that small allocations are sampled
// too (the default samples one allocation per 512 KiB).
func init() { runtime.MemProfileRate = 16 * 1024 }

type record struct {
	id    int
	name  string
	attrs map[string]string
	data  []byte
}

var retained []any // kept live so that the profile shows in-use memory

func allocBuffers(mb int) {
	for i := 0; i < mb*4; i++ {
		retained = append(retained, make([]byte, 256*1024))
	}
}

func allocRecords(n int) {
	recs := make([]*record, 0, n)
	for i := range n {
		recs = append(recs, &record{
			id:    i,
			name:  "record-" + strconv.Itoa(i),
			attrs: map[string]string{"k": strconv.Itoa(i % 97)},
			data:  make([]byte, 64+i%512),
		})
	}
	retained = append(retained, recs)
}

func allocStrings(n int) {
	var parts []string
	for i := range n {
		var b strings.Builder
		for j := range 8 {
			b.WriteString(strconv.Itoa(i * j))
			b.WriteByte(',')
		}
		parts = append(parts, b.String())
	}
	retained = append(retained, parts)
}

func churn(n int) int {
	total := 0
	for i := range n {
		tmp := make([]int, 1000+i%1000) // garbage: shows in alloc_space only
		total += len(tmp)
	}
	return total
}

func main() {
	out := flag.String("o", "", "write the heap profile to `file` (required)")
	mb := flag.Int("mb", 16, "MiB of large buffers to keep live")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "usage: heapprof -o FILE [-mb N]\n")
		flag.PrintDefaults()
		os.Exit(2)
	}

	allocBuffers(*mb)
	allocRecords(50000)
	allocStrings(50000)
	n := churn(20000)
	runtime.GC() // update the profile with the latest allocations

	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintf(os.Stderr, "heapprof: %v\n", err)
		os.Exit(1)
	}
	if err := pprof.WriteHeapProfile(f); err != nil {
		fmt.Fprintf(os.Stderr, "heapprof: write heap profile: %v\n", err)
		os.Exit(1)
	}
	if err := f.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "heapprof: %v\n", err)
		os.Exit(1)
	}
	runtime.KeepAlive(retained)
	fmt.Fprintf(os.Stderr, "heapprof: wrote %s (%d objects retained, %d ints churned)\n", *out, len(retained), n)
}
