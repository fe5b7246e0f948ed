package placement

import "sync"

// crcCombine returns the CRC-32C of a‖b from crcA = crc(a), crcB = crc(b)
// and len(b), without reading either: an erasure-coded chunk's CRC is
// built from its data shards' CRCs, which the shards' blocks compute
// anyway, instead of a second pass over the chunk. Go's hash/crc32 has no
// combine; this is zlib's crc32_combine (multiplication by x^(8·len(b))
// modulo the reflected polynomial), with Castagnoli's polynomial.
func crcCombine(crcA, crcB uint32, lenB int) uint32 {
	return multModP(xPow8n(uint64(lenB)), crcA) ^ crcB
}

// castagnoliReflected is the CRC-32C polynomial, bit-reversed.
const castagnoliReflected = 0x82f63b78

// multModP returns a(x)·b(x) modulo the polynomial (reflected bit order;
// a must not be zero).
func multModP(a, b uint32) uint32 {
	m := uint32(1) << 31
	p := uint32(0)
	for {
		if a&m != 0 {
			p ^= b
			if a&(m-1) == 0 {
				return p
			}
		}
		m >>= 1
		if b&1 != 0 {
			b = b>>1 ^ castagnoliReflected
		} else {
			b >>= 1
		}
	}
}

// x2nTable holds x^(2^k) modulo the polynomial for k = 0..31.
var x2nTable = sync.OnceValue(func() [32]uint32 {
	var t [32]uint32
	p := uint32(1) << 30 // x^1
	t[0] = p
	for k := 1; k < len(t); k++ {
		p = multModP(p, p)
		t[k] = p
	}
	return t
})

// xPow8n returns x^(8n) modulo the polynomial: the operator that moves a
// CRC past n bytes.
func xPow8n(n uint64) uint32 {
	t := x2nTable()
	p := uint32(1) << 31 // x^0
	for k := 3; n != 0; k++ {
		if n&1 != 0 {
			p = multModP(t[k&31], p)
		}
		n >>= 1
	}
	return p
}
