// Package cpuwork is the CPU work the client programs do while their profilers record.
package cpuwork

import (
	"crypto/sha256"
	"sort"
)

// Do sorts n numbers and hashes one of them, so the profile has sort and hash frames.
func Do(n int) byte {
	s := make([]int, n)
	for i := range s {
		s[i] = (i * 7919) % 1000
	}
	sort.Ints(s)
	h := sha256.Sum256([]byte{byte(s[n/2])})
	return h[0]
}
