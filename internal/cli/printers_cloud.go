package cli

import (
	"cmp"
	"strings"

	"github.com/maestro-dev/maestro/engine/api"
)

// nodePoolColumns: the desired size against what runs, and in CONDITION
// "Ready" or the reason the pool is not.
var nodePoolColumns = columns{
	headers: []string{"NAME", "PROVIDER", "SIZE", "READY", "UP-TO-DATE", "MIN", "MAX", "CONDITION", "AGE"},
	row: func(o api.Object) []string {
		p := o.(*api.NodePool)
		return []string{p.Name, p.Spec.Provider, itoa(api.Deref(p.Spec.Size, p.Spec.MinSize)), itoa(p.Status.ReadyMachines),
			itoa(p.Status.UpdatedMachines), itoa(p.Spec.MinSize), itoa(p.Spec.MaxSize), poolCondition(p), age(p.CreationTimestamp)}
	},
}

// nodePoolWideColumns add the pool's machine count, shape and, when it is
// not Ready, why.
var nodePoolWideColumns = columns{
	headers: []string{"MACHINES", "MACHINE-TYPE", "ZONES", "MESSAGE"},
	row: func(o api.Object) []string {
		p := o.(*api.NodePool)
		msg := ""
		if c := api.FindCondition(p.Status.Conditions, api.NodePoolReady); c != nil && c.Status != api.ConditionTrue {
			msg = c.Message
		}
		return []string{itoa(p.Status.Machines), dash(p.Spec.MachineType), dash(strings.Join(p.Spec.Zones, ",")), dash(oneLine(msg))}
	},
}

// machineColumns: where a machine is in its life and which node and host
// it became.
var machineColumns = columns{
	headers: []string{"NAME", "POOL", "PROVIDER", "PHASE", "NODE", "ADDRESS", "ZONE", "AGE"},
	row: func(o api.Object) []string {
		m := o.(*api.Machine)
		return []string{m.Name, m.Spec.Pool, m.Spec.Provider, dash(m.Status.Phase), dash(m.Status.NodeName),
			dash(machineAddress(m)), dash(m.Spec.Zone), age(m.CreationTimestamp)}
	},
}

// machineWideColumns add the machine's shape, cloud id, template and what
// went wrong.
var machineWideColumns = columns{
	headers: []string{"MACHINE-TYPE", "PROVIDER-ID", "TEMPLATE", "MESSAGE"},
	row: func(o api.Object) []string {
		m := o.(*api.Machine)
		return []string{dash(m.Spec.MachineType), dash(m.Status.ProviderID), dash(m.Labels[api.LabelTemplateHash]),
			dash(oneLine(machineMessage(m)))}
	},
}

// poolCondition is "Ready" when the pool's Ready condition is True, else
// its reason ("RollingOut"), "NotReady" without one, "Unknown" when the
// controller has not reported.
func poolCondition(p *api.NodePool) string {
	c := api.FindCondition(p.Status.Conditions, api.NodePoolReady)
	switch {
	case c == nil || c.Status == api.ConditionUnknown:
		return "Unknown"
	case c.Status == api.ConditionTrue:
		return "Ready"
	}
	return cmp.Or(c.Reason, "NotReady")
}

// machineAddress is the host an ssh machine was made on, else the address
// the cloud reported (internal first).
func machineAddress(m *api.Machine) string {
	if m.Spec.Host != "" {
		return m.Spec.Host
	}
	for _, a := range m.Status.Addresses {
		if a.Type == api.NodeInternalIP {
			return a.Address
		}
	}
	if len(m.Status.Addresses) > 0 {
		return m.Status.Addresses[0].Address
	}
	return ""
}

// machineMessage is the machine's status message, else the first condition
// that is not True, as "Reason: message".
func machineMessage(m *api.Machine) string {
	if m.Status.Message != "" {
		return m.Status.Message
	}
	for _, c := range m.Status.Conditions {
		if c.Status != api.ConditionTrue && (c.Reason != "" || c.Message != "") {
			return strings.TrimPrefix(c.Reason+": "+c.Message, ": ")
		}
	}
	return ""
}

// oneLine fits a message into a table cell: its first line, whole (a
// cloud's error says what failed at its end), with " ..." when more lines
// follow (describe shows them).
func oneLine(s string) string {
	first, _, more := strings.Cut(strings.TrimSpace(s), "\n")
	if more {
		return first + " ..."
	}
	return first
}
