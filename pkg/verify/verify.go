// Package verify proves that a bucket survives the loss of a store: it
// writes an object, makes stores really fail, reads the object back and
// compares SHA-256 digests (one per mebibyte), and reports each failure
// set against what the bucket's placement policy promises.
package verify

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/nbctl/nb/pkg/placement"
)

// Results of one read.
const (
	ResultIntact      = "intact"      // read back, the same SHA-256 for every piece
	ResultUnavailable = "unavailable" // could not be read
	ResultDifferent   = "DIFFERENT"   // read back, other bytes: never acceptable
	ResultNotTried    = "not tried"   // predicted only (cluster without --disrupt)
)

// Case is one failure set and how the bucket fared.
type Case struct {
	// Failed names the stores made to fail, with their type and how.
	Failed []string `json:"failed"`
	Types  []string `json:"types"`
	How    string   `json:"failure"`
	// ChunksHeld counts the object's chunks with a block on a failed
	// store, of Chunks.
	ChunksHeld int `json:"chunksHeld"`
	Chunks     int `json:"chunks"`
	// Promised: the policy promises to survive this loss. Predicted: the
	// object's manifest says it is still readable.
	Promised  bool   `json:"promised"`
	Predicted bool   `json:"predicted"`
	Result    string `json:"result"`
	Error     string `json:"error,omitempty"`
	// SHA256 is the read's SHA-256 when it is intact (the object's);
	// FirstDifference, of a read that came back different, is the offset
	// of the first mebibyte that differs.
	SHA256          string  `json:"sha256,omitempty"`
	FirstDifference *int64  `json:"firstDifference,omitempty"`
	Seconds         float64 `json:"seconds"`
	// OK: the outcome is acceptable (the promise held, or nothing was
	// promised and the data was not returned wrong).
	OK bool `json:"ok"`
}

// upload is what a read back is compared with.
type upload struct {
	sha256  string
	size    int64
	digests [][sha256.Size]byte
}

// compare sets c's result from what a read that returned without error
// hashed.
func (c *Case) compare(h *Hasher, up upload) {
	if off := h.FirstDifference(up.digests, up.size); off >= 0 {
		c.Result, c.FirstDifference = ResultDifferent, &off
		return
	}
	c.Result, c.SHA256 = ResultIntact, up.sha256
}

// Judge sets c.OK from the promise and the result.
func (c *Case) Judge() {
	switch c.Result {
	case ResultIntact, ResultNotTried:
		c.OK = true
	case ResultUnavailable:
		c.OK = !c.Promised
	default:
		c.OK = false
	}
}

// Report is the outcome of a verification.
type Report struct {
	Target string `json:"target"`
	Claim  string `json:"claim,omitempty"`
	// TemporaryClaim: nb created Claim for this run (--bucketclass on a
	// cluster) and deletes it unless Kept.
	TemporaryClaim bool    `json:"temporaryClaim,omitempty"`
	BucketClass    string  `json:"bucketClass,omitempty"`
	Bucket         string  `json:"bucket"`
	Key            string  `json:"key"`
	Policy         string  `json:"policy"`
	Size           int64   `json:"size"`
	SHA256         string  `json:"sha256"`
	UploadSeconds  float64 `json:"uploadSeconds"`
	Cases          []Case  `json:"cases"`
	Kept           bool    `json:"kept"`
	OK             bool    `json:"ok"`
	Verdict        string  `json:"verdict"`
}

// Conclude sets the verdict from the cases.
func (r *Report) Conclude() {
	r.OK = true
	var broken, unpromised, survives, wouldLose []string
	for _, c := range r.Cases {
		name := strings.Join(c.Failed, "+")
		switch {
		case !c.OK:
			r.OK = false
			broken = append(broken, name)
		case c.Result == ResultNotTried && c.Promised:
			survives = append(survives, name)
		case c.Result == ResultNotTried:
			wouldLose = append(wouldLose, name)
		case c.Result == ResultUnavailable:
			unpromised = append(unpromised, name)
		}
	}
	switch {
	case !r.OK:
		r.Verdict = "FAILED: the data was unreadable or different where the policy promised it would survive the loss of " + strings.Join(broken, ", ")
	case len(survives)+len(wouldLose) > 0:
		r.Verdict = "OK: the object reads back intact"
		if len(survives) > 0 {
			r.Verdict += "; by the live bucket class and stores it survives the loss of " + strings.Join(survives, " or ")
		}
		if len(wouldLose) > 0 {
			r.Verdict += "; it is not promised to survive the loss of " + strings.Join(wouldLose, " or ")
		}
		r.Verdict += " (--disrupt tries each store's loss for real)"
	case len(unpromised) > 0:
		r.Verdict = "OK: the policy's promise held; as expected, the data is unavailable without " + strings.Join(unpromised, ", ")
	default:
		r.Verdict = "OK: the policy's promise held"
	}
}

// FailureSets are the sets verify tries: each store alone, then the
// smallest loss the policy does not promise to survive (every mirror of a
// tier, m+1 shards' stores of an erasure-coded tier), if any.
func FailureSets(pol placement.Policy, only []string) [][]string {
	var sets [][]string
	consider := map[string]bool{}
	for _, t := range pol.Tiers {
		for _, s := range t.Stores {
			if len(only) == 0 || slices.Contains(only, s) {
				if !consider[s] {
					sets = append(sets, []string{s})
				}
				consider[s] = true
			}
		}
	}
	for _, t := range pol.Tiers {
		var cand []string
		for _, s := range t.Stores {
			if consider[s] {
				cand = append(cand, s)
			}
		}
		var beyond []string
		switch {
		case t.Placement == "Mirror" && len(cand) == len(t.Stores) && len(cand) > 1:
			beyond = cand
		case t.ParityShards > 0 && len(cand) > t.ParityShards:
			beyond = cand[:t.ParityShards+1]
		}
		if len(beyond) > 1 {
			sort.Strings(beyond)
			sets = append(sets, beyond)
		}
	}
	return sets
}

// Stores lists a policy's stores in order, once each.
func Stores(pol placement.Policy) []string {
	var out []string
	for _, t := range pol.Tiers {
		for _, s := range t.Stores {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// Generated returns size deterministic bytes from seed (ChaCha8): the same
// seed always gives the same object.
func Generated(seed uint64, size int64) io.Reader {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	copy(key[8:], "nb verify object")
	return io.LimitReader(rand.NewChaCha8(key), size)
}

// PieceSize is the span of the object each read-back digest covers.
const PieceSize = 1 << 20

// Hasher counts what is written to it and takes a SHA-256 of every
// PieceSize bytes (the last piece may be shorter), hashing the pieces of
// one write in parallel: a read-back is then compared piece by piece, at
// what the machine's cores hash, not at one core's SHA-256 (which held a
// read back to a third of the store's read speed, docs/benchmarks.md).
// With NewWholeHasher it also takes the whole stream's SHA-256, for the
// report.
type Hasher struct {
	whole  hash.Hash // nil: pieces only
	n      int64
	pieces [][sha256.Size]byte
	part   hash.Hash // the piece being filled, when a write ends inside one
	partN  int
}

// NewHasher returns a hasher of pieces.
func NewHasher() *Hasher { return &Hasher{part: sha256.New()} }

// NewWholeHasher returns a hasher of pieces that also hashes the whole.
func NewWholeHasher() *Hasher { return &Hasher{part: sha256.New(), whole: sha256.New()} }

func (h *Hasher) Write(p []byte) (int, error) {
	n := len(p)
	h.n += int64(n)
	if h.whole != nil {
		h.whole.Write(p)
	}
	if h.partN > 0 { // finish the piece a write left open
		k := min(len(p), PieceSize-h.partN)
		h.part.Write(p[:k])
		h.partN += k
		p = p[k:]
		if h.partN == PieceSize {
			h.closePart()
		}
	}
	full := len(p) / PieceSize
	if full > 0 {
		first := len(h.pieces)
		h.pieces = append(h.pieces, make([][sha256.Size]byte, full)...)
		workers := min(full, runtime.GOMAXPROCS(0))
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := w; i < full; i += workers {
					h.pieces[first+i] = sha256.Sum256(p[i*PieceSize : (i+1)*PieceSize])
				}
			})
		}
		wg.Wait()
		p = p[full*PieceSize:]
	}
	if len(p) > 0 {
		h.part.Write(p)
		h.partN += len(p)
	}
	return n, nil
}

func (h *Hasher) closePart() {
	var d [sha256.Size]byte
	h.pieces = append(h.pieces, [sha256.Size]byte(h.part.Sum(d[:0])))
	h.part.Reset()
	h.partN = 0
}

// Sum is the hex SHA-256 of the whole stream (a whole hasher only).
func (h *Hasher) Sum() string {
	if h.whole == nil {
		return ""
	}
	return hex.EncodeToString(h.whole.Sum(nil))
}

// N is how many bytes were written.
func (h *Hasher) N() int64 { return h.n }

// Digests are the pieces' SHA-256s, the last (short) piece's included:
// call it once the stream is written (it closes that piece).
func (h *Hasher) Digests() [][sha256.Size]byte {
	if h.partN > 0 {
		h.closePart()
	}
	return h.pieces
}

// FirstDifference is the offset of the first piece where what h hashed
// differs from want (the upload's digests, of size bytes), or -1 when
// they are the same bytes.
func (h *Hasher) FirstDifference(want [][sha256.Size]byte, size int64) int64 {
	got := h.Digests()
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return int64(i) * PieceSize
		}
	}
	if h.n != size || len(got) != len(want) {
		return min(h.n, size)
	}
	return -1
}

// source is the object to upload and its size: the file, or generated
// bytes, wrapped in the progress bar when there is one.
func (in Input) source() (io.Reader, int64) {
	src, size := in.File, in.FileSize
	if src == nil {
		src, size = Generated(in.Seed, in.Size), in.Size
	}
	if in.Progress != nil {
		src = in.Progress(src, size)
	}
	return src, size
}

// testKey names a verify's test object, unique and dated.
func testKey() string {
	return "nb-verify/" + time.Now().UTC().Format("20060102T150405Z") + "-" + uuid.NewString()[:8]
}
