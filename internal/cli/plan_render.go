package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/maestro-dev/maestro/internal/plan"
	"github.com/maestro-dev/maestro/internal/plan/render"
)

const planRenderUsage = `Usage: maestro plan render [-format markdown|text|json] [FILE|-]

Renders a plan for reviewers. FILE (or standard input, with - or no FILE)
is either a plan saved by 'maestro plan -out FILE' or the output of
'terraform show -json PLANFILE' of a Terraform plan of maestro resources;
both give the same markdown, with the same impact section.

  terraform plan -out tf.plan
  terraform show -json tf.plan | maestro plan render -format markdown

Flags:
`

// newPlanRenderCmd is `maestro plan render`. Its flags are Terraform's
// style (-format, --format also works), parsed by the flag package.
func newPlanRenderCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:                "render [-format markdown|text|json] [FILE|-]",
		Short:              "Render a saved plan or a Terraform plan (terraform show -json) as markdown, text or JSON",
		DisableFlagParsing: true,
		SilenceUsage:       true,
		SilenceErrors:      true,
		RunE: func(cmd *cobra.Command, args []string) error {
			fs := flag.NewFlagSet("maestro plan render", flag.ContinueOnError)
			fs.SetOutput(cmd.ErrOrStderr())
			format := fs.String("format", "markdown", "markdown (a pull-request comment), text (Terraform's notation) or json (terraform show -json's shape)")
			color := fs.Bool("color", false, "colour the text format's markers")
			fs.Usage = func() {
				fmt.Fprint(fs.Output(), planRenderUsage)
				fs.PrintDefaults()
			}
			if err := fs.Parse(args); err != nil {
				if errors.Is(err, flag.ErrHelp) {
					return nil
				}
				return err
			}
			if fs.NArg() > 1 {
				return fmt.Errorf("plan render: one FILE at most, got %d", fs.NArg())
			}
			write, ok := map[string]func(io.Writer, *plan.Plan) error{
				"markdown": render.Markdown, "md": render.Markdown, "json": render.JSON,
				"text": func(w io.Writer, p *plan.Plan) error { return render.Text(w, p, *color) },
			}[*format]
			if !ok {
				return fmt.Errorf("plan render: -format %q: must be markdown, text or json", *format)
			}
			p, err := readPlanFile(cmd.InOrStdin(), fs.Arg(0))
			if err != nil {
				return err
			}
			return write(g.out, p)
		},
	}
}

// readPlanFile reads a saved maestro plan or `terraform show -json`
// output from name ("" or "-": stdin), telling them apart by content.
func readPlanFile(stdin io.Reader, name string) (*plan.Plan, error) {
	in, what := stdin, "standard input"
	if name != "" && name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("plan render: %w", err)
		}
		defer f.Close()
		in, what = f, name
	}
	data, err := io.ReadAll(in)
	if err != nil {
		return nil, fmt.Errorf("plan render: reading %s: %w", what, err)
	}
	if bytes.HasPrefix(data, []byte("PK")) {
		return nil, fmt.Errorf("plan render: %s is a binary Terraform plan file: render `terraform show -json %s` instead", what, name)
	}
	var head struct {
		Format        string `json:"format"`
		FormatVersion string `json:"format_version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("plan render: %s: not JSON (%v): give a plan saved by `maestro plan -out` or `terraform show -json` output", what, err)
	}
	switch {
	case head.Format == plan.SavedFormat:
		s, err := plan.Load(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("plan render: %s: %w", what, err)
		}
		return s.Plan, nil
	case head.FormatVersion != "":
		p, err := render.FromTerraformJSON(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("plan render: %s: %w", what, err)
		}
		return p, nil
	}
	return nil, fmt.Errorf("plan render: %s: neither a plan saved by `maestro plan -out` nor `terraform show -json` output of a plan", what)
}
