package remoteserver

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

func TestSpecDefaults(t *testing.T) {
	for _, tt := range []struct {
		name string
		s    Spec
		want string // error substring, "" for none
	}{
		{"one host", Spec{Hosts: []string{"a"}, Binary: "/m"}, ""},
		{"three hosts", Spec{Hosts: []string{"a", "b", "c"}, Binary: "/m"}, ""},
		{"two hosts", Spec{Hosts: []string{"a", "b"}, Binary: "/m"}, "hosts: 2 given"},
		{"no hosts", Spec{Binary: "/m"}, "hosts: 0 given"},
		{"relative install dir", Spec{Hosts: []string{"a"}, Binary: "/m", InstallDir: "opt"}, `install_dir "opt"`},
		{"root install dir", Spec{Hosts: []string{"a"}, Binary: "/m", InstallDir: "/"}, `install_dir "/"`},
		{"bad port", Spec{Hosts: []string{"a"}, Binary: "/m", APIPort: 70000}, "api_port 70000"},
		{"no binary", Spec{Hosts: []string{"a"}}, "binary: required"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.setDefaults()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("setDefaults() = %v, want %q", err, tt.want)
			}
			if err == nil && (tt.s.InstallDir != DefaultInstallDir || tt.s.APIPort != DefaultAPIPort || tt.s.EtcdBinary != "etcd") {
				t.Errorf("defaults not set: %+v", tt.s)
			}
		})
	}
}

func TestServerArgv(t *testing.T) {
	one := Spec{Hosts: []string{"10.0.0.1"}, Binary: "/m", InstallDir: "/opt/cp", ServerArgs: []string{"--log-level=debug"}}
	ha := Spec{Hosts: []string{"10.0.0.1", "10.0.0.2:2222", "cp3.example"}, Binary: "/m", InstallDir: "/opt/cp"}
	for _, s := range []*Spec{&one, &ha} {
		if err := s.setDefaults(); err != nil {
			t.Fatal(err)
		}
	}
	got := strings.Join(one.serverArgv("10.0.0.1"), " ")
	want := "/opt/cp/10.0.0.1/bin/maestro server --data-dir /opt/cp/10.0.0.1/data --listen 0.0.0.0:6443 --advertise-address 10.0.0.1 " +
		"--client-config /opt/cp/10.0.0.1/admin.conf --encryption-key-file /opt/cp/10.0.0.1/encryption.key --log-level=debug"
	if got != want {
		t.Errorf("single host argv\n got %s\nwant %s", got, want)
	}
	got = strings.Join(ha.serverArgv("10.0.0.2:2222"), " ")
	for _, w := range []string{
		"--advertise-address 10.0.0.2 ", // the SSH port is not the API's
		"--data-dir /opt/cp/10.0.0.2_2222/data",
		"--etcd-endpoints https://10.0.0.1:2379,https://10.0.0.2:2379,https://cp3.example:2379",
		"--etcd-certfile /opt/cp/10.0.0.2_2222/etcd-pki/etcd-client.crt",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("HA argv %q lacks %q", got, w)
		}
	}
	etcd := strings.Join(ha.etcdArgv("/usr/bin/etcd", "cp3.example"), " ")
	for _, w := range []string{
		"/usr/bin/etcd --name maestro-cp3.example ",
		"--initial-cluster maestro-10.0.0.1=https://10.0.0.1:2380,maestro-10.0.0.2_2222=https://10.0.0.2:2380,maestro-cp3.example=https://cp3.example:2380",
		"--advertise-client-urls https://cp3.example:2379",
		"--client-cert-auth", "--peer-client-cert-auth",
		"--initial-cluster-token " + ha.clusterToken(),
	} {
		if !strings.Contains(etcd, w) {
			t.Errorf("etcd argv %q lacks %q", etcd, w)
		}
	}
}

func TestDescribe(t *testing.T) {
	one, err := Describe(Spec{Hosts: []string{"a"}, Binary: "/x/maestro", User: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(one, "\n"); !strings.Contains(got, "to a under /var/lib/maestro-server/<host>/bin, as admin over SSH") ||
		!strings.Contains(got, "maestro server with its embedded etcd on a, API on port 6443") {
		t.Errorf("Describe(one host) = %q", got)
	}
	ha, err := Describe(Spec{Hosts: []string{"a", "b", "c"}, Binary: "/x/maestro"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ha, "\n"); !strings.Contains(got, "3-member etcd cluster") || !strings.Contains(got, "as root over SSH") {
		t.Errorf("Describe(HA) = %q", got)
	}
	if _, err := Describe(Spec{Hosts: []string{"a", "b"}, Binary: "/x"}); err == nil {
		t.Error("Describe of two hosts: no error")
	}
}

func TestParsePreflight(t *testing.T) {
	for _, tt := range []struct {
		out  string
		want hostState
		err  bool
	}{
		{"server absent\netcd absent\nsystemd no\netcdbin -\n", hostState{server: "absent", etcd: "absent"}, false},
		{"server running\netcd stopped\nsystemd yes\netcdbin /usr/bin/etcd\nrecord {\"hosts\":[\"a\"]}\n",
			hostState{server: "running", etcd: "stopped", systemd: true, etcdBin: "/usr/bin/etcd", record: `{"hosts":["a"]}`}, false},
		{"sh: 1: syntax error\n", hostState{}, true},
	} {
		got, err := parsePreflight([]byte(tt.out))
		if (err != nil) != tt.err || !tt.err && got != tt.want {
			t.Errorf("parsePreflight(%q) = %+v, %v; want %+v", tt.out, got, err, tt.want)
		}
	}
}

func TestParseFiles(t *testing.T) {
	files := map[string][]byte{"a/b.crt": []byte("line 1\nline 2\n"), "key": []byte("no newline"), "empty": {}}
	var out bytes.Buffer
	for _, n := range slices.Sorted(maps.Keys(files)) {
		fmt.Fprintf(&out, "file %s %d\n%s", n, len(files[n]), files[n])
	}
	got, err := parseFiles(out.Bytes())
	if err != nil || !maps.EqualFunc(got, files, bytes.Equal) {
		t.Fatalf("parseFiles = %q, %v; want %q", got, err, files)
	}
	for _, bad := range []string{"garbage\n", "file a 99\nshort", "file a x\n"} {
		if _, err := parseFiles([]byte(bad)); err == nil {
			t.Errorf("parseFiles(%q): no error", bad)
		}
	}
}

func TestRecordJSON(t *testing.T) {
	s := Spec{Hosts: []string{"a", `b"c`}, APIPort: 7443}
	if got, want := recordJSON(s), `{"hosts":["a","b\"c"],"apiPort":7443}`; got != want {
		t.Errorf("recordJSON = %s, want %s", got, want)
	}
}
