package cli

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/maestro-dev/maestro/engine/api"
)

// formatError renders an error for a person: validation failures list one
// field per line.
func formatError(err error) string {
	var se *api.StatusError
	if errors.As(err, &se) && se.Status.Details != nil && len(se.Status.Details.Causes) > 0 {
		d := se.Status.Details
		lines := make([]string, len(d.Causes))
		for i, c := range d.Causes {
			lines[i] = "  - " + c.Error()
		}
		sort.Strings(lines)
		return fmt.Sprintf("%s %q is invalid:\n%s", d.Kind, d.Name, strings.Join(lines, "\n"))
	}
	return err.Error()
}
