package burn

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"hash/fnv"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// Digester hashes a payload. shaDigester is used for ~90% of the requests,
// so d.Digest in hashBlobs is a devirtualization candidate.
type Digester interface {
	Digest(dst, data []byte) []byte
}

type shaDigester struct{}

func (shaDigester) Digest(dst, data []byte) []byte {
	// A cheap rolling checksum in front of the real digest gives this
	// method self time, so that the profile has hashBlobs -> Digest edges.
	var c uint32
	for _, b := range data {
		c = c*31 + uint32(b)
	}
	sum := sha256.Sum256(data)
	sum[0] ^= byte(c)
	return append(dst, sum[:]...)
}

type fnvDigester struct{ h hash.Hash64 }

func (d *fnvDigester) Digest(dst, data []byte) []byte {
	d.h.Reset()
	d.h.Write(data)
	return d.h.Sum(dst)
}

// mixer is called through a function value; mixMurmur is the dominant target.
type mixer func(uint64) uint64

func mixMurmur(x uint64) uint64 {
	for range 8 {
		x ^= x >> 33
		x *= 0xff51afd7ed558ccd
		x ^= x >> 33
		x *= 0xc4ceb9fe1a85ec53
		x ^= x >> 33
	}
	return x
}

func mixSplit(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func mixXor(x uint64) uint64 {
	x ^= x << 13
	x ^= x >> 7
	x ^= x << 17
	return x
}

type hashState struct {
	rng      *rand.Rand
	sb       strings.Builder
	payload  []byte
	digest   []byte
	leaves   [][32]byte
	counts   map[string]int
	sessions map[uint64]string
	digs     []Digester
	mixers   []mixer
}

func newHashState(rng *rand.Rand) *hashState {
	return &hashState{
		rng:      rng,
		payload:  make([]byte, 0, 1024),
		counts:   map[string]int{},
		sessions: map[uint64]string{},
		digs:     []Digester{shaDigester{}, &fnvDigester{h: fnv.New64a()}},
		mixers:   []mixer{mixMurmur, mixSplit, mixXor},
	}
}

func (s *hashState) serve(h uint64) uint64 {
	d := s.digs[0]
	if h%10 == 7 {
		d = s.digs[1]
	}
	mx := s.mixers[0]
	if r := mix(h) % 20; r == 3 || r == 11 {
		mx = s.mixers[1+r%2]
	}
	acc := s.hashBlobs(h, d, mx)
	acc ^= s.sessionsWork(h, mx)
	if h>>32%8 == 0 {
		acc ^= s.summary()
	}
	return acc
}

// hashBlobs builds keys with strings.Builder, hashes payloads through the
// Digester interface and counts key prefixes in a map, then computes a
// recursive Merkle root over the digests.
func (s *hashState) hashBlobs(h uint64, d Digester, mx mixer) uint64 {
	n := 320 + int(h%128)
	s.leaves = s.leaves[:0]
	var acc uint64
	for i := range n {
		key := s.buildKey("tenant-"+word(h), i, h)
		s.payload = fillPayload(s.payload[:0], mx(h+uint64(i)), 256+int(h>>8%512))
		s.digest = d.Digest(s.digest[:0], s.payload)
		var leaf [32]byte
		copy(leaf[:], s.digest)
		s.leaves = append(s.leaves, leaf)
		s.counts[key[:strings.LastIndexByte(key, '/')]]++
		acc += uint64(s.digest[0])
	}
	root := merkle(s.leaves)
	return acc ^ uint64(root[0])<<8 ^ uint64(root[31])
}

// buildKey is medium sized and hot: a PGO inlining candidate.
func (s *hashState) buildKey(tenant string, i int, h uint64) string {
	s.sb.Reset()
	s.sb.Grow(64)
	s.sb.WriteString(tenant)
	s.sb.WriteByte('/')
	s.sb.WriteString(word(h >> 3))
	s.sb.WriteByte('/')
	var buf [20]byte
	s.sb.Write(strconv.AppendInt(buf[:0], int64(i%16), 10))
	s.sb.WriteByte('/')
	s.sb.Write(strconv.AppendUint(buf[:0], mix(h+uint64(i))%100000, 36))
	return strings.ToLower(s.sb.String())
}

func fillPayload(dst []byte, seed uint64, n int) []byte {
	x := seed
	for len(dst) < n {
		x = rotl(x*0x9e3779b97f4a7c15, 17) ^ x>>7
		dst = append(dst, byte(x), byte(x>>8), byte(x>>16), byte(x>>24))
	}
	return dst
}

func merkle(leaves [][32]byte) [32]byte {
	if len(leaves) == 1 {
		return leaves[0]
	}
	mid := len(leaves) / 2
	l, r := merkle(leaves[:mid]), merkle(leaves[mid:])
	var buf [64]byte
	copy(buf[:32], l[:])
	copy(buf[32:], r[:])
	return sha256.Sum256(buf[:])
}

// sessionsWork updates a session map keyed by mixed ids and encodes
// session tokens in hex.
func (s *hashState) sessionsWork(h uint64, mx mixer) uint64 {
	var acc uint64
	var tok [16]byte
	for i := range 256 {
		id := mx(h^uint64(i)) % 4096
		v, ok := s.sessions[id]
		if !ok || i%7 == 0 {
			x := mx(id + h)
			for j := range tok {
				tok[j] = byte(x >> (8 * (j % 8)))
			}
			v = hex.EncodeToString(tok[:])
			s.sessions[id] = v
		}
		acc += uint64(len(v)) + id
	}
	if len(s.sessions) > 3000 {
		for k := range s.sessions {
			if k%3 == 0 {
				delete(s.sessions, k)
			}
		}
	}
	return acc
}

// summary sorts the counter keys and renders a report with strings.Builder.
func (s *hashState) summary() uint64 {
	keys := slices.Sorted(maps.Keys(s.counts))
	s.sb.Reset()
	for _, k := range keys {
		s.sb.WriteString(k)
		s.sb.WriteByte('=')
		s.sb.WriteString(strconv.Itoa(s.counts[k]))
		s.sb.WriteByte('\n')
	}
	if len(s.counts) > 2000 {
		clear(s.counts)
	}
	return uint64(s.sb.Len())
}
