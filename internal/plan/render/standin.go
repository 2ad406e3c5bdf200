// Package render is a STAND-IN written by the manifest helper so that
// `maestro plan` builds before the real package (branch i15-plan) lands;
// delete this file when it is merged.
package render

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/maestro-dev/maestro/internal/plan"
)

func Text(w io.Writer, p *plan.Plan, _ bool) error {
	sym := map[plan.Action]string{plan.Create: "+", plan.Update: "~", plan.Replace: "-/+", plan.Delete: "-"}
	for _, c := range p.Changes {
		if c.Action == plan.NoOp {
			continue
		}
		fmt.Fprintf(w, "  %s %s (%s)\n", sym[c.Action], c.Address, c.Action)
	}
	add, change, destroy := p.Counts()
	if !p.HasChanges() {
		_, err := fmt.Fprintln(w, "No changes. The cluster matches the manifests.")
		return err
	}
	_, err := fmt.Fprintf(w, "\nPlan: %d to add, %d to change, %d to destroy.\n", add, change, destroy)
	return err
}

func Markdown(w io.Writer, p *plan.Plan) error {
	fmt.Fprintln(w, "### maestro plan")
	return Text(w, p, false)
}

func JSON(w io.Writer, p *plan.Plan) error {
	return json.NewEncoder(w).Encode(p)
}
