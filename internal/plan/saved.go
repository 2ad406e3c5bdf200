package plan

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/maestro-dev/maestro/engine/api"
)

// SavedVersion is the version of the saved plan format this build writes
// and reads.
const SavedVersion = 1

// SavedFormat marks a saved plan file (`maestro plan -out`), so readers
// can tell it from other JSON (a `terraform show -json` plan).
const SavedFormat = "maestro-plan"

// Saved is a plan written by `maestro plan -out FILE` for a later
// `maestro apply FILE`. It holds the desired objects, so it holds secret
// values as Terraform's plan files do: keep it where the secrets may be.
type Saved struct {
	Version int
	Plan    *Plan             // with Desired objects
	Seen    map[string]string // address -> resourceVersion seen ("" = absent)
	Dir     string            // manifest directory, for messages
}

// savedFile is the JSON of a Saved. API objects are stored with their
// kind, which Load uses to decode each into its Go type.
type savedFile struct {
	Format  string                 `json:"format"`
	Version int                    `json:"version"`
	Dir     string                 `json:"dir,omitempty"`
	Seen    map[string]string      `json:"seen"`
	Plan    *Plan                  `json:"plan"`
	Objects map[string]typedObject `json:"objects,omitempty"` // address -> desired object
}

type typedObject struct {
	Kind   string          `json:"kind"`
	Object json.RawMessage `json:"object"`
}

// Save writes s as versioned JSON.
func Save(w io.Writer, s *Saved) error {
	if s == nil || s.Plan == nil {
		return errors.New("saving plan: no plan")
	}
	f := savedFile{Format: SavedFormat, Version: SavedVersion, Dir: s.Dir, Seen: s.Seen, Plan: s.Plan,
		Objects: map[string]typedObject{}}
	for _, c := range s.Plan.Changes {
		if c.Desired == nil {
			continue
		}
		b, err := json.Marshal(c.Desired)
		if err != nil {
			return fmt.Errorf("saving plan: %s: encoding the desired object: %w", c.Address, err)
		}
		f.Objects[c.Address] = typedObject{Kind: api.KindOf(c.Desired).Kind, Object: b}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return fmt.Errorf("saving plan: %w", err)
	}
	return nil
}

// Load reads a plan written by Save; numbers in the attribute trees come
// back as json.Number.
func Load(r io.Reader) (*Saved, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var f savedFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("reading saved plan: %w", err)
	}
	if f.Format != SavedFormat {
		return nil, fmt.Errorf("reading saved plan: format %q: not a maestro plan (want %q)", f.Format, SavedFormat)
	}
	if f.Version != SavedVersion {
		return nil, fmt.Errorf("reading saved plan: version %d: this maestro reads version %d; plan again", f.Version, SavedVersion)
	}
	if f.Plan == nil {
		return nil, errors.New("reading saved plan: plan: missing")
	}
	for i := range f.Plan.Changes {
		c := &f.Plan.Changes[i]
		t, ok := f.Objects[c.Address]
		if !ok {
			continue
		}
		k, err := api.LookupKind(t.Kind)
		if err != nil {
			return nil, fmt.Errorf("reading saved plan: objects[%q].kind: %w", c.Address, err)
		}
		obj := k.New()
		if err := json.Unmarshal(t.Object, obj); err != nil {
			return nil, fmt.Errorf("reading saved plan: objects[%q].object: %w", c.Address, err)
		}
		c.Desired = obj
	}
	return &Saved{Version: f.Version, Plan: f.Plan, Seen: f.Seen, Dir: f.Dir}, nil
}

// Stale compares what the plan saw with the cluster now (address ->
// resourceVersion, "" or missing for absent) and returns one line per
// address changed since, sorted; empty when the plan is current.
func Stale(s *Saved, now map[string]string) []string {
	var out []string
	for _, addr := range slices.Sorted(maps.Keys(s.Seen)) {
		was, is := s.Seen[addr], now[addr]
		switch {
		case was == is:
		case was == "":
			out = append(out, fmt.Sprintf("%s: created since the plan (resourceVersion %s)", addr, is))
		case is == "":
			out = append(out, fmt.Sprintf("%s: deleted since the plan (resourceVersion was %s)", addr, was))
		default:
			out = append(out, fmt.Sprintf("%s: changed since the plan (resourceVersion %s -> %s)", addr, was, is))
		}
	}
	return out
}
