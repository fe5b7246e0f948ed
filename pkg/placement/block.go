package placement

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// Block format on a store: a 16-byte header, then the payload.
//
//	0  4  magic "NBK1"
//	4  1  format version (1)
//	5  1  kind (1 data block, 2 manifest, 3 tombstone)
//	6  2  reserved, zero
//	8  4  payload length, big endian
//	12 4  CRC-32C (Castagnoli) of the payload, big endian
const (
	headerSize    = 16
	blockVersion  = 1
	kindData      = 1
	kindManifest  = 2
	kindTombstone = 3
	// kindDead marks the data block of a pack record whose object is
	// gone (pack.go): the byte at kindOffset is overwritten with it.
	kindDead   = 4
	kindOffset = 5
)

var (
	magic    = [4]byte{'N', 'B', 'K', '1'}
	castagno = crc32.MakeTable(crc32.Castagnoli)
	// ErrBadBlock means a block failed its integrity check.
	ErrBadBlock = errors.New("block failed its integrity check")
)

// crc computes the CRC-32C nb uses everywhere.
func crc(b []byte) uint32 { return crc32.Checksum(b, castagno) }

// sealBlock writes the header into buf[:headerSize] for the payload in
// buf[headerSize:], so a block is built without copying the payload.
func sealBlock(buf []byte, kind byte) uint32 {
	payload := buf[headerSize:]
	sum := crc(payload)
	copy(buf[0:4], magic[:])
	buf[4], buf[5], buf[6], buf[7] = blockVersion, kind, 0, 0
	binary.BigEndian.PutUint32(buf[8:12], uint32(len(payload)))
	binary.BigEndian.PutUint32(buf[12:16], sum)
	return sum
}

// newBlock returns a sealed block holding a copy of payload, and the
// payload's CRC-32C.
func newBlock(payload []byte, kind byte) ([]byte, uint32) {
	buf := make([]byte, headerSize+len(payload))
	copy(buf[headerSize:], payload)
	return buf, sealBlock(buf, kind)
}

// openBlock checks a block and returns its payload (a sub-slice).
func openBlock(b []byte, kind byte) ([]byte, error) {
	payload, _, err := openBlockSum(b, kind)
	return payload, err
}

// openBlockSum is openBlock also returning the payload's CRC-32C.
func openBlockSum(b []byte, kind byte) ([]byte, uint32, error) {
	if len(b) < headerSize {
		return nil, 0, fmt.Errorf("%w: %d bytes is shorter than the header", ErrBadBlock, len(b))
	}
	if [4]byte(b[0:4]) != magic || b[4] != blockVersion || b[5] != kind || b[6] != 0 || b[7] != 0 {
		return nil, 0, fmt.Errorf("%w: bad header", ErrBadBlock)
	}
	n := binary.BigEndian.Uint32(b[8:12])
	if uint64(n) != uint64(len(b)-headerSize) {
		return nil, 0, fmt.Errorf("%w: length %d, header says %d", ErrBadBlock, len(b)-headerSize, n)
	}
	payload := b[headerSize:]
	if got, want := crc(payload), binary.BigEndian.Uint32(b[12:16]); got != want {
		return nil, 0, fmt.Errorf("%w: CRC-32C %08x, header says %08x", ErrBadBlock, got, want)
	}
	return payload, binary.BigEndian.Uint32(b[12:16]), nil
}
