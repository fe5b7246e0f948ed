package placement

import (
	"context"
	"errors"
	"strings"
)

// RecoverReport says what Recover rebuilt.
type RecoverReport struct {
	Scanned  int `json:"scanned"`
	Restored int `json:"restored"`
	Skipped  int `json:"skipped"`
}

// Recover rebuilds a bucket's metadata by scanning its stores for the
// manifest copies Put leaves next to the blocks: the newest version of
// each key wins. Current metadata is kept unless a store holds a newer
// version.
func (e *Engine) Recover(ctx context.Context, bucket string) (RecoverReport, error) {
	var rep RecoverReport
	newest := map[string]*Manifest{}
	for _, s := range e.Stores {
		err := s.List(ctx, "manifests/"+bucket+"/", func(key string) error {
			rep.Scanned++
			raw, err := s.Get(ctx, key)
			if err != nil {
				rep.Skipped++
				return nil
			}
			payload, err := openBlock(raw, kindManifest)
			if err != nil {
				rep.Skipped++
				return nil
			}
			man, err := DecodeManifest(payload)
			if err != nil || man.Bucket != bucket || !strings.HasSuffix(key, "/"+man.ObjectID) {
				rep.Skipped++
				return nil
			}
			if cur := newest[man.Key]; cur == nil || newer(man, cur) {
				newest[man.Key] = man
			}
			return nil
		})
		if err != nil && ctx.Err() != nil {
			return rep, ctx.Err()
		}
	}
	for key, man := range newest {
		cur, err := e.Meta.Get(bucket, key)
		if err != nil && !errors.Is(err, ErrNoObject) {
			return rep, err
		}
		if cur != nil && !newer(man, cur) {
			continue
		}
		if _, err := e.Meta.Commit(man); err != nil {
			return rep, err
		}
		rep.Restored++
	}
	return rep, nil
}

func newer(a, b *Manifest) bool {
	if !a.Created.Equal(b.Created) {
		return a.Created.After(b.Created)
	}
	return a.ObjectID > b.ObjectID
}
