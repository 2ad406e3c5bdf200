package prober

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/maestro-dev/maestro/engine/api"
)

// maxRedirects bounds same-host redirects, as Go's default client does.
const maxRedirects = 10

// maxBody is how much of a response a probe reads before closing it.
const maxBody = 10 << 10

// newHTTPClient is kubelet's probe client: no proxy, no keep-alives (a
// probe every few seconds per container must not pile up idle
// connections), any certificate (a probe checks health, not identity), and
// redirects followed only to the same host; a redirect elsewhere ends the
// probe with the 3xx answer, which counts as success.
func newHTTPClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:             nil,
			DisableKeepAlives: true,
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // see above
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Hostname() != via[0].URL.Hostname() {
				return http.ErrUseLastResponse
			}
			if len(via) >= maxRedirects {
				return fmt.Errorf("stopped after %d redirects", maxRedirects)
			}
			return nil
		},
	}
}

func probeHTTP(ctx context.Context, client *http.Client, h *api.HTTPGetAction, t Target) (Result, string, error) {
	port, err := resolvePort(h.Port, t.NamedPorts)
	if err != nil {
		return Unknown, "", err
	}
	host := h.Host
	if host == "" {
		host = t.PodIP
	}
	if host == "" {
		return Unknown, "", errors.New("no pod IP to probe")
	}
	u, err := url.Parse(h.Path)
	if err != nil {
		u = &url.URL{Path: h.Path}
	}
	u.Scheme = strings.ToLower(h.Scheme)
	if u.Scheme == "" {
		u.Scheme = "http"
	}
	u.Host = net.JoinHostPort(host, strconv.Itoa(port))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Unknown, "", err
	}
	for _, hd := range h.HTTPHeaders {
		if http.CanonicalHeaderKey(hd.Name) == "Host" {
			req.Host = hd.Value
			continue
		}
		req.Header.Add(hd.Name, hd.Value)
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "maestro-probe")
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "*/*")
	}
	res, err := client.Do(req)
	if err != nil {
		return Failure, err.Error(), nil
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, maxBody))
	_ = res.Body.Close()
	if res.StatusCode >= http.StatusOK && res.StatusCode < http.StatusBadRequest {
		return Success, "", nil
	}
	return Failure, fmt.Sprintf("HTTP probe failed with statuscode: %d", res.StatusCode), nil
}

// resolvePort turns a probe's port into a number: a name of the
// container's ports, else (as kubelet) a number written as a string.
func resolvePort(p api.IntOrString, named map[string]int32) (int, error) {
	port := int(p.IntVal)
	if p.IsString {
		if n, ok := named[p.StrVal]; ok {
			port = int(n)
		} else if n, err := strconv.Atoi(p.StrVal); err == nil {
			port = n
		} else {
			return 0, fmt.Errorf("container has no port named %q", p.StrVal)
		}
	}
	if port <= 0 || port > 65535 {
		return 0, fmt.Errorf("invalid port number: %d", port)
	}
	return port, nil
}
