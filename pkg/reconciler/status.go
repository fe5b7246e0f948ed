package reconciler

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	nbv1 "github.com/nbctl/nb/pkg/apis/noobaa/v1alpha1"
)

var eventGVR = schema.GroupVersionResource{Version: "v1", Resource: "events"}

// outcome is what one reconcile decided about an object.
type outcome struct {
	phase   string
	mode    string
	reason  string
	message string
}

// conditions are the operator's four conditions for a phase (openshift
// conditionsv1, as pkg/util SetPhase writes them).
func conditions(o outcome, now time.Time, old []interface{}) []interface{} {
	avail, progressing, degraded, upgradeable := "False", "True", "False", "False"
	switch o.phase {
	case "Ready":
		avail, progressing, degraded, upgradeable = "True", "False", "False", "True"
	case "Rejected":
		avail, progressing, degraded, upgradeable = "Unknown", "False", "True", "Unknown"
	}
	ts := now.UTC().Format(time.RFC3339)
	prev := map[string]map[string]interface{}{}
	for _, c := range old {
		if m, ok := c.(map[string]interface{}); ok {
			if t, _ := m["type"].(string); t != "" {
				prev[t] = m
			}
		}
	}
	mk := func(typ, status string) interface{} {
		transition := ts
		if p := prev[typ]; p != nil && p["status"] == status {
			if t, _ := p["lastTransitionTime"].(string); t != "" {
				transition = t
			}
		}
		return map[string]interface{}{
			"type": typ, "status": status, "reason": o.reason, "message": o.message,
			"lastHeartbeatTime": ts, "lastTransitionTime": transition,
		}
	}
	return []interface{}{mk("Available", avail), mk("Progressing", progressing), mk("Degraded", degraded), mk("Upgradeable", upgradeable)}
}

// setStatus writes the outcome if it changed, with an event on a phase or
// mode change (Warning when Rejected), as the operator does.
func (r *Reconciler) setStatus(ctx context.Context, gvr schema.GroupVersionResource, obj *unstructured.Unstructured, o outcome, modeIsObject bool, kind string) error {
	oldPhase, _, _ := unstructured.NestedString(obj.Object, "status", "phase")
	oldMode := nbv1.Mode(obj)
	oldReason, oldMessage := "", ""
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]interface{}); ok && m["type"] == "Available" {
			oldReason, _ = m["reason"].(string)
			oldMessage, _ = m["message"].(string)
		}
	}
	if oldPhase == o.phase && oldMode == o.mode && oldReason == o.reason && oldMessage == o.message {
		return nil
	}
	now := r.now()
	st := map[string]interface{}{"phase": o.phase, "conditions": conditions(o, now, conds)}
	if modeIsObject {
		if o.mode != "" {
			st["mode"] = map[string]interface{}{"modeCode": o.mode, "timeStamp": now.UTC().Format(time.RFC3339)}
		}
	} else if o.mode != "" {
		st["mode"] = o.mode
	}
	next := obj.DeepCopy()
	next.Object["status"] = st
	if _, err := r.Objects.UpdateStatus(ctx, gvr, next); err != nil {
		return err
	}
	if oldPhase != o.phase || oldMode != o.mode {
		typ := "Normal"
		if o.phase == "Rejected" {
			typ = "Warning"
		}
		msg := o.message
		if o.mode != "" {
			msg = fmt.Sprintf("%s mode: %s", strings.ToLower(spaced(kind)), o.mode)
			if o.message != "" {
				msg += ": " + o.message
			}
		}
		return r.event(ctx, obj, kind, typ, kind+"Phase"+o.phase, msg)
	}
	return nil
}

func spaced(kind string) string {
	var b strings.Builder
	for i, c := range kind {
		if i > 0 && c >= 'A' && c <= 'Z' {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// event records an Event about obj.
// Event records an event on obj (kind is its Kind), as the operator's
// event recorder does: background care reports through it too.
func (r *Reconciler) Event(ctx context.Context, obj *unstructured.Unstructured, kind, typ, reason, msg string) error {
	return r.event(ctx, obj, kind, typ, reason, msg)
}

func (r *Reconciler) event(ctx context.Context, obj *unstructured.Unstructured, kind, typ, reason, msg string) error {
	// An event records what already happened: a pass cancelled right
	// after the change (a wait that ended) must not lose it.
	ctx = context.WithoutCancel(ctx)
	now := r.now().UTC().Format(time.RFC3339)
	ev := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "v1", "kind": "Event",
		"metadata": map[string]interface{}{"name": fmt.Sprintf("%s.%s", obj.GetName(), uuid.NewString()[:8]), "namespace": obj.GetNamespace()},
		"involvedObject": map[string]interface{}{
			"apiVersion": obj.GetAPIVersion(), "kind": kind, "name": obj.GetName(),
			"namespace": obj.GetNamespace(), "uid": string(obj.GetUID()),
		},
		"type": typ, "reason": reason, "message": msg, "count": int64(1),
		"firstTimestamp": now, "lastTimestamp": now,
		"source": map[string]interface{}{"component": "nb-local"},
	}}
	_, err := r.Objects.Create(ctx, eventGVR, ev)
	return err
}
