package nbcmd

import (
	"fmt"
	"sort"
	"testing"
	"time"

	nbv1 "github.com/nbctl/nb/pkg/apis/noobaa/v1alpha1"
)

// BenchmarkWaitReadyLatency measures, on the real API server, the time from
// the operator's status write (phase Ready, mode OPTIMAL) to `nb
// backingstore create` returning. The operator's own CLI polls every 3 s.
func BenchmarkWaitReadyLatency(b *testing.B) {
	if restCfg == nil {
		b.Skip("needs the cluster tier (KUBEBUILDER_ASSETS)")
	}
	ns := newNamespace(b)
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		name := fmt.Sprintf("pv%d", i)
		ch, _ := startNB(b, restCfg, nil, "backingstore", "create", "pv-pool", name, "--num-volumes", "1", "--pv-size-gb", "16", "-n", ns)
		waitFor(b, nbv1.BackingStoreGVR, ns, name)
		setStatus(b, nbv1.BackingStoreGVR, ns, name, storeStatus("Creating", "", "BackingStorePhaseCreating", ""))
		time.Sleep(100 * time.Millisecond) // let nb's watch see Creating
		b.StartTimer()
		start := time.Now()
		setStatus(b, nbv1.BackingStoreGVR, ns, name, storeStatus("Ready", "OPTIMAL", "BackingStorePhaseReady", ""))
		r := <-ch
		lat = append(lat, time.Since(start))
		b.StopTimer()
		if r.code != 0 {
			b.Fatalf("exit %d: %s", r.code, r.stderr)
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "ms-median")
	b.ReportMetric(float64(lat[len(lat)*9/10].Microseconds())/1000, "ms-p90")
}
