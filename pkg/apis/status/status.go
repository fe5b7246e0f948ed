// Package status holds what nb reads from an object's status while it
// waits on it: a Verdict (waiting, done, rejected) and the Progress shown
// meanwhile. The rules that judge each kind live next to its API types
// (nbv1.StoreReady, nbv1.BucketClassReady, obv1.ClaimBound); pkg/kube's
// Wait applies whichever it is given.
package status

import "k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

// Verdict is what a condition makes of an object's status.
type Verdict int

// Verdicts.
const (
	Waiting Verdict = iota
	Done
	Rejected
)

// Progress is the part of an object's status nb shows while it waits.
type Progress struct {
	Phase   string
	Reason  string
	Message string
	Mode    string
}

func (p Progress) String() string {
	s := p.Phase
	if s == "" {
		s = "(no phase yet)"
	}
	if p.Mode != "" {
		s += " [" + p.Mode + "]"
	}
	if p.Reason != "" {
		s += ": " + p.Reason
	}
	if p.Message != "" {
		s += " " + p.Message
	}
	return s
}

// Read returns an object's phase and mode (status.mode.modeCode for
// stores, the plain status.mode of bucket classes) and the reason and
// message of the condition that says most: Degraded when it is True (the
// operator explains a rejection there), else Available, else Progressing.
func Read(obj *unstructured.Unstructured) Progress {
	p := Progress{}
	p.Phase, _, _ = unstructured.NestedString(obj.Object, "status", "phase")
	p.Mode, _, _ = unstructured.NestedString(obj.Object, "status", "mode", "modeCode")
	if p.Mode == "" {
		p.Mode, _, _ = unstructured.NestedString(obj.Object, "status", "mode")
	}
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, want := range []string{"Degraded", "Available", "Progressing"} {
		for _, c := range conds {
			m, _ := c.(map[string]interface{})
			if m["type"] != want {
				continue
			}
			if want == "Degraded" && m["status"] != "True" {
				continue
			}
			reason, _ := m["reason"].(string)
			msg, _ := m["message"].(string)
			if reason != "" || msg != "" {
				p.Reason, p.Message = reason, msg
				return p
			}
		}
	}
	return p
}

// ByPhase judges p by its phase alone: Done in phase done, Rejected in
// phase rejected, else Waiting.
func ByPhase(p Progress, done, rejected string) (Verdict, Progress) {
	switch p.Phase {
	case done:
		return Done, p
	case rejected:
		return Rejected, p
	}
	return Waiting, p
}
