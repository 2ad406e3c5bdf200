package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/maestro-dev/maestro/internal/plan"
)

// Markdown writes the plan for a pull-request comment: a summary line,
// the destroy banner (a caution callout), the objects per action, the
// impact section, each resource's diff collapsed in a <details> block
// (a diff fence, so GitHub colours added and removed lines) and the plan
// hash. A Terraform plan read by FromTerraformJSON gives the same layout.
func Markdown(w io.Writer, p *plan.Plan) error {
	var b strings.Builder
	add, change, destroy := p.Counts()
	if !p.HasChanges() {
		b.WriteString("### Plan: no changes\n\nThe cluster matches the configuration.\n")
	} else {
		fmt.Fprintf(&b, "### Plan: %d to add, %d to change, %d to destroy\n", add, change, destroy)
	}
	if banner := destroyBanner(p, code); banner != "" {
		b.WriteString("\n> [!CAUTION]\n> ⚠️ **Destroy**: " + banner + "\n")
	}
	writeActionLists(&b, p)
	if lines := impactLines(p, code); len(lines) > 0 {
		b.WriteString("\n#### Impact\n\n")
		for _, l := range lines {
			b.WriteString("- " + escape(codeAddresses(l, p)) + "\n")
		}
	}
	if len(p.Warnings) > 0 {
		b.WriteString("\n#### Warnings\n\n")
		for _, l := range p.Warnings {
			b.WriteString("- " + escape(l) + "\n")
		}
	}
	if p.HasChanges() {
		b.WriteString("\n#### Changes\n")
		left := 0
		for i := range p.Changes {
			c := &p.Changes[i]
			if c.Action == plan.NoOp {
				continue
			}
			var d strings.Builder
			writeDetails(&d, c)
			if left > 0 || b.Len()+d.Len() > MarkdownDiffLimit {
				left++
				continue
			}
			b.WriteString(d.String())
		}
		if left > 0 {
			fmt.Fprintf(&b, "\n%s left out here, to keep the comment within GitHub's size limit: "+
				"`maestro plan render -format text` of the plan shows every diff.\n", count(left, "more diff"))
		}
	}
	fmt.Fprintf(&b, "\n<sub>Plan hash <code>%s</code></sub>\n", p.Hash()[:12])
	_, err := io.WriteString(w, b.String())
	return err
}

// MarkdownDiffLimit bounds the comment's size before the diffs that do
// not fit are left out (GitHub refuses comments over 65536 characters;
// the summary, banner, lists and impact are always there).
var MarkdownDiffLimit = 60000

func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// writeActionLists lists the addresses of each action.
func writeActionLists(b *strings.Builder, p *plan.Plan) {
	if !p.HasChanges() {
		return
	}
	b.WriteString("\n")
	for _, a := range []struct {
		action plan.Action
		title  string
	}{{plan.Create, "Create"}, {plan.Update, "Update in place"}, {plan.Replace, "Replace"}, {plan.Delete, "Destroy"}} {
		var names []string
		for _, c := range p.Changes {
			if c.Action != a.action {
				continue
			}
			name := code(c.Address)
			if len(c.ReplacePaths) > 0 {
				forced := make([]string, len(c.ReplacePaths))
				for i, rp := range c.ReplacePaths {
					forced[i] = code(rp)
				}
				name += " (forced by " + strings.Join(forced, ", ") + ")"
			}
			names = append(names, name)
		}
		if len(names) > 0 {
			fmt.Fprintf(b, "- **%s** (%d): %s\n", a.title, len(names), strings.Join(names, ", "))
		}
	}
}

// writeDetails writes one resource's diff, collapsed.
func writeDetails(b *strings.Builder, c *plan.Change) {
	lines := resourceLines(c, false)[1:] // the "# ... will be" line is the summary
	diff := make([]string, len(lines))
	for i, l := range lines {
		diff[i] = diffLine(l)
	}
	body := strings.Join(diff, "\n")
	fence := "```"
	for strings.Contains(body, fence) {
		fence += "`"
	}
	sign := map[plan.Action]string{plan.Create: "+", plan.Update: "~", plan.Replace: "-/+", plan.Delete: "-"}[c.Action]
	fmt.Fprintf(b, "\n<details><summary><code>%s %s</code> %s</summary>\n\n%sdiff\n%s\n%s\n\n</details>\n",
		sign, htmlEscape(c.Address), headline(c.Action), fence, body, fence)
}

// diffLine moves a line's marker to the first column, where a diff fence
// colours it: "+" green, "-" and "-/+" red, "~" as "!" (changed).
func diffLine(l string) string {
	t := strings.TrimLeft(l, " ")
	pad := len(l) - len(t)
	for _, m := range []string{"-/+", "+", "-", "~"} {
		if strings.HasPrefix(t, m+" ") {
			shown := m
			if m == "~" {
				shown = "!"
			}
			return shown + strings.Repeat(" ", pad) + strings.Repeat(" ", len(m)-len(shown)) + t[len(m):]
		}
	}
	return l
}

// code formats an address or path as inline code.
func code(s string) string { return "`" + strings.ReplaceAll(s, "`", "'") + "`" }

// escape keeps free text (a scheduler's reason, a node name) from being
// read as markdown or HTML; inline code spans are kept as they are.
func escape(s string) string {
	var b strings.Builder
	inCode := false
	for _, r := range s {
		switch {
		case r == '`':
			inCode = !inCode
		case inCode:
		case strings.ContainsRune(`\*_[]<>|#~`, r):
			b.WriteRune('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

// codeAddresses formats the plan's addresses in a free-text line (a
// plan-wide impact line names its object) as inline code.
func codeAddresses(l string, p *plan.Plan) string {
	var b strings.Builder
	inCode := false
	for i := 0; i < len(l); {
		if l[i] == '`' {
			inCode = !inCode
		}
		if !inCode && (i == 0 || !addressByte(l[i-1])) {
			if addr := addressAt(l[i:], p); addr != "" {
				b.WriteString(code(addr))
				i += len(addr)
				continue
			}
		}
		b.WriteByte(l[i])
		i++
	}
	return b.String()
}

// addressAt is the longest address of the plan that l starts with, as a
// whole word.
func addressAt(l string, p *plan.Plan) string {
	best := ""
	for _, c := range p.Changes {
		a := c.Address
		if len(a) > len(best) && strings.HasPrefix(l, a) && (len(l) == len(a) || !addressByte(l[len(a)])) {
			best = a
		}
	}
	return best
}

func addressByte(c byte) bool {
	return c == '_' || c == '-' || c == '.' || c == '[' || c == ']' || c == '"' ||
		'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
