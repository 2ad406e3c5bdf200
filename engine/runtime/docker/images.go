package docker

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/runtime"
)

// ReasonErrImageNeverPull is the ImageError reason of a missing image whose
// policy forbids pulling.
const ReasonErrImageNeverPull = api.ReasonErrImageNeverPull

// EnsureImage makes image present according to policy (an empty policy is
// IfNotPresent), pulling with the credentials of auths meant for its
// registry. A pull is bounded by ctx; the caller sets the deadline.
func (r *Runtime) EnsureImage(ctx context.Context, ref string, policy api.PullPolicy, auths []runtime.RegistryAuth) error {
	if policy != api.PullAlways {
		ok, err := r.ImageExists(ctx, ref)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if policy == api.PullNever {
			return &runtime.ImageError{Image: ref, Reason: ReasonErrImageNeverPull,
				Message: fmt.Sprintf("container image %q is not present with pull policy of Never", ref)}
		}
	}
	mine := authsFor(ref, auths)
	if len(mine) == 0 {
		return r.pull(ctx, ref, nil)
	}
	// Each credential in turn, as the kubelet does: the first that pulls wins.
	var err error
	for i := range mine {
		if err = r.pull(ctx, ref, &mine[i]); err == nil || ctx.Err() != nil {
			return err
		}
	}
	return err
}

// pull pulls ref, with auth when not nil; every failure is an ImageError
// with the engine's words (and never the credential).
func (r *Runtime) pull(ctx context.Context, ref string, auth *runtime.RegistryAuth) error {
	start := time.Now()
	log := r.log.With("image", ref)
	var opts image.PullOptions
	if auth != nil {
		log = log.With("registry", auth.Server, "username", auth.Username)
		enc, err := encodeAuth(*auth)
		if err != nil {
			return &runtime.ImageError{Image: ref, Reason: api.ReasonErrImagePull, Message: "encoding the registry credential: " + err.Error()}
		}
		opts.RegistryAuth = enc
	}
	log.Info("pulling image")
	fail := func(err error) error {
		msg := strings.TrimPrefix(err.Error(), "Error response from daemon: ")
		if ctx.Err() != nil {
			msg = fmt.Sprintf("pull did not finish in %s: %v", time.Since(start).Round(time.Millisecond), ctx.Err())
		}
		if auth != nil {
			msg = redact(msg, []runtime.RegistryAuth{*auth}) + fmt.Sprintf(" (with the credential for %s of user %q)", auth.Server, auth.Username)
		}
		log.Warn("image pull failed", "error", msg)
		return &runtime.ImageError{Image: ref, Reason: api.ReasonErrImagePull, Message: msg}
	}
	rc, err := r.c.ImagePull(ctx, ref, opts)
	if err != nil {
		return fail(err)
	}
	defer rc.Close()
	// The engine reports failures after the first byte inside the stream.
	if _, err := readMessages(rc); err != nil {
		return fail(err)
	}
	log.Info("pulled image", "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// ImageExists reports whether ref is present in the engine.
func (r *Runtime) ImageExists(ctx context.Context, ref string) (bool, error) {
	_, err := r.c.ImageInspect(ctx, ref)
	switch {
	case err == nil:
		return true, nil
	case cerrdefs.IsNotFound(err):
		return false, nil
	default:
		return false, fmt.Errorf("docker runtime: inspecting image %q: %w", ref, err)
	}
}

// ImportBinary builds the image ref from one static binary, without a
// registry or a build: the engine imports a tar stream holding the binary
// (at /<its base name>, mode 0755) and an empty /tmp, and the import's
// changes set the entrypoint (default: the binary).
func (r *Runtime) ImportBinary(ctx context.Context, binaryPath, ref string, entrypoint []string) error {
	f, err := os.Open(binaryPath)
	if err != nil {
		return fmt.Errorf("docker runtime: importing %s: %w", binaryPath, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("docker runtime: importing %s: %w", binaryPath, err)
	}
	name := filepath.Base(binaryPath)
	if len(entrypoint) == 0 {
		entrypoint = []string{"/" + name}
	}
	ep, err := json.Marshal(entrypoint)
	if err != nil {
		return fmt.Errorf("docker runtime: importing %s: %w", binaryPath, err)
	}

	pr, pw := io.Pipe()
	defer pr.Close() // ends the writer below if the engine stops reading
	go func() { pw.CloseWithError(writeBinaryTar(pw, f, name, st.Size())) }()

	rc, err := r.c.ImageImport(ctx, image.ImportSource{Source: pr, SourceName: "-"}, ref,
		image.ImportOptions{Changes: []string{"ENTRYPOINT " + string(ep)}})
	if err != nil {
		return fmt.Errorf("docker runtime: importing %s as %s: %w", binaryPath, ref, err)
	}
	defer rc.Close()
	if _, err := readMessages(rc); err != nil {
		return fmt.Errorf("docker runtime: importing %s as %s: %w", binaryPath, ref, err)
	}
	r.log.Info("imported image", "image", ref, "binary", binaryPath)
	return nil
}

func writeBinaryTar(w io.Writer, f io.Reader, name string, size int64) error {
	tw := tar.NewWriter(w)
	now := time.Now()
	hdrs := []*tar.Header{
		{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777, ModTime: now},
		{Name: name, Typeflag: tar.TypeReg, Mode: 0o755, Size: size, ModTime: now},
	}
	for _, h := range hdrs {
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
	}
	if _, err := io.Copy(tw, f); err != nil {
		return err
	}
	return tw.Close()
}

// LoadArchive loads a `docker save` archive and returns the references it
// loaded (tags, or image ids for untagged images).
func (r *Runtime) LoadArchive(ctx context.Context, rd io.Reader) ([]string, error) {
	resp, err := r.c.ImageLoad(ctx, rd, client.ImageLoadWithQuiet(true))
	if err != nil {
		return nil, fmt.Errorf("docker runtime: loading image archive: %w", err)
	}
	defer resp.Body.Close()
	var out []string
	if resp.JSON {
		out, err = readMessages(resp.Body)
	} else {
		var b []byte
		b, err = io.ReadAll(resp.Body)
		out = strings.Split(string(b), "\n")
	}
	if err != nil {
		return nil, fmt.Errorf("docker runtime: loading image archive: %w", err)
	}
	var refs []string
	for _, line := range strings.Split(strings.Join(out, "\n"), "\n") {
		line = strings.TrimSpace(line)
		if ref, ok := strings.CutPrefix(line, "Loaded image: "); ok {
			refs = append(refs, ref)
		} else if id, ok := strings.CutPrefix(line, "Loaded image ID: "); ok {
			refs = append(refs, id)
		}
	}
	if len(refs) == 0 {
		return nil, errors.New("docker runtime: loading image archive: the engine loaded no image")
	}
	r.log.Info("loaded image archive", "images", refs)
	return refs, nil
}

// message is one object of the engine's JSON progress streams.
type message struct {
	Stream      string `json:"stream"`
	Status      string `json:"status"`
	Error       string `json:"error"`
	ErrorDetail *struct {
		Message string `json:"message"`
	} `json:"errorDetail"`
}

// readMessages reads a progress stream to its end and returns its "stream"
// texts, or the first error it reports.
func readMessages(r io.Reader) ([]string, error) {
	dec := json.NewDecoder(r)
	var streams []string
	for {
		var m message
		if err := dec.Decode(&m); err == io.EOF {
			return streams, nil
		} else if err != nil {
			return streams, fmt.Errorf("reading the engine's progress: %w", err)
		}
		switch {
		case m.ErrorDetail != nil && m.ErrorDetail.Message != "":
			return streams, errors.New(m.ErrorDetail.Message)
		case m.Error != "":
			return streams, errors.New(m.Error)
		case m.Stream != "":
			streams = append(streams, m.Stream)
		}
	}
}
