package resource

import (
	"fmt"
	"io"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/nbctl/nb/pkg/care"
	"github.com/nbctl/nb/pkg/manifest"
	"github.com/nbctl/nb/pkg/placement"
)

// quota is a quantity's bytes, or 0.
func quota(q string) int64 {
	v, err := resource.ParseQuantity(q)
	if err != nil {
		return 0
	}
	n, ok := v.AsInt64()
	if !ok {
		return 0
	}
	return n
}

// PrintBucketHealth writes a bucket's health block, as `noobaa obc status`
// shows "Bucket status": what it holds, the room its class has, quota use
// and resiliency with the last heal and scrub.
func PrintBucketHealth(w io.Writer, st care.Status, maxSize string, maxObjects int64, now time.Time, tty bool) {
	field := func(name, value string) { fmt.Fprintf(w, "  %-16s %s\n", name+":", value) }
	field("Bucket", st.Name)
	if st.Policy != "" {
		field("Placement", st.Policy)
	}
	field("Objects", fmt.Sprint(st.Objects))
	field("Data size", manifest.FormatBytes(st.Bytes))
	if st.Uploads > 0 {
		field("Uploads", fmt.Sprintf("%d multipart upload(s) in progress", st.Uploads))
	}
	if st.FreeKnown {
		field("Free in class", manifest.FormatBytes(st.Free))
	} else {
		field("Free in class", "unbounded (a store of unknown size)")
	}
	if q := quota(maxSize); q > 0 {
		field("Quota size", fmt.Sprintf("%s of %s (%.0f%%)", manifest.FormatBytes(st.Bytes), manifest.FormatBytes(q), 100*float64(st.Bytes)/float64(q)))
	}
	if maxObjects > 0 {
		field("Quota objects", fmt.Sprintf("%d of %d", st.Objects, maxObjects))
	}
	if st.Misplaced > 0 {
		field("Rebalance", fmt.Sprintf("%d of %d object(s) placed as the class says; %d still to move (nb serve moves them, or nb bucket rebalance)",
			st.Objects-st.Misplaced, st.Objects, st.Misplaced))
	}
	res := fmt.Sprintf("%d optimal, %d degraded", st.Optimal(), st.Degraded)
	if sc := st.Care.Scrub; sc != nil && sc.LostCount > 0 {
		res += fmt.Sprintf(", %d unreadable at the last scrub", sc.LostCount)
	}
	field("Resiliency", res)
	run := func(name string, r *placement.CareRun) {
		if r == nil {
			field(name, "never")
			return
		}
		when := "at " + Age(r.Finished, now, tty)
		if tty {
			when = Age(r.Finished, now, tty) + " ago"
		}
		field(name, fmt.Sprintf("%s: %d object(s), %d block(s) repaired, %d missing, %d lost",
			when, r.Objects, r.Repaired, r.Missing, r.LostCount))
		for _, l := range r.Lost {
			fmt.Fprintf(w, "  %-16s %s\n", "", "lost: "+l)
		}
	}
	run("Last heal", st.Care.Heal)
	run("Last scrub", st.Care.Scrub)
}
