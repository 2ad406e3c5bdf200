package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/maestro-dev/maestro/internal/plan"
)

// Text writes the plan in Terraform's notation: a legend of the symbols
// used, the destroy banner, each change's diff (+ create, ~ update in
// place, -/+ replace with "# forces replacement" on the attribute, -
// destroy), the impact, warnings and the "Plan: ..." summary. color adds
// ANSI colours to the markers.
func Text(w io.Writer, p *plan.Plan, color bool) error {
	var b strings.Builder
	if !p.HasChanges() {
		b.WriteString("No changes. The cluster matches the configuration.\n")
		writeTextNotes(&b, p)
		_, err := io.WriteString(w, b.String())
		return err
	}
	b.WriteString("Resource actions are indicated with the following symbols:\n")
	for _, a := range []struct {
		action plan.Action
		line   string
	}{{plan.Create, "  + create"}, {plan.Update, "  ~ update in-place"},
		{plan.Replace, "-/+ destroy and then create replacement"}, {plan.Delete, "  - destroy"}} {
		if has(p, a.action) {
			b.WriteString(a.line + "\n")
		}
	}
	if banner := destroyBanner(p, func(s string) string { return s }); banner != "" {
		b.WriteString("\nWarning: " + banner + "\n")
	}
	b.WriteString("\nmaestro will perform the following actions:\n")
	for i := range p.Changes {
		c := &p.Changes[i]
		if c.Action == plan.NoOp {
			continue
		}
		b.WriteString("\n")
		for _, l := range resourceLines(c, color) {
			b.WriteString(l + "\n")
		}
	}
	add, change, destroy := p.Counts()
	fmt.Fprintf(&b, "\nPlan: %d to add, %d to change, %d to destroy.\n", add, change, destroy)
	writeTextNotes(&b, p)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeTextNotes adds the impact and warnings sections.
func writeTextNotes(b *strings.Builder, p *plan.Plan) {
	if lines := impactLines(p, func(s string) string { return s }); len(lines) > 0 {
		b.WriteString("\nImpact:\n")
		for _, l := range lines {
			b.WriteString("  - " + l + "\n")
		}
	}
	if len(p.Warnings) > 0 {
		b.WriteString("\nWarnings:\n")
		for _, l := range p.Warnings {
			b.WriteString("  - " + l + "\n")
		}
	}
}

// impactLines are every change's impact, prefixed with its address, then
// the plan-wide lines; code formats an address.
func impactLines(p *plan.Plan, code func(string) string) []string {
	var out []string
	for _, c := range p.Changes {
		for _, l := range c.Impact {
			out = append(out, code(c.Address)+": "+l)
		}
	}
	return append(out, p.Impact...)
}

// destroyBanner is the sentence naming what the plan destroys ("" when
// nothing); code formats an address.
func destroyBanner(p *plan.Plan, code func(string) string) string {
	var names []string
	for _, c := range p.Changes {
		switch c.Action {
		case plan.Delete:
			names = append(names, code(c.Address))
		case plan.Replace:
			names = append(names, code(c.Address)+" (replaced)")
		}
	}
	if len(names) == 0 {
		return ""
	}
	what := "objects"
	if len(names) == 1 {
		what = "object"
	}
	return fmt.Sprintf("this plan destroys %d %s: %s.", len(names), what, strings.Join(names, ", "))
}

func has(p *plan.Plan, a plan.Action) bool {
	for _, c := range p.Changes {
		if c.Action == a {
			return true
		}
	}
	return false
}
