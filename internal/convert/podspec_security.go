package convert

import "github.com/maestro-dev/maestro/engine/api"

// The pod spec's env_from, image_pull_secrets and security_context
// (provider/podspec_security.go).

func (r *reader) boolPtr(name string) *bool {
	if v, ok := r.m[name]; !ok || v == nil {
		r.get(name)
		return nil
	}
	return api.Ptr(r.boolean(name))
}

func podSecurityFrom(r *reader, s *api.PodSpec) {
	r.with("security_context", func(b *reader) {
		s.SecurityContext = &api.PodSecurityContext{RunAsUser: b.int64Ptr("run_as_user"), RunAsGroup: b.int64Ptr("run_as_group"), RunAsNonRoot: b.boolPtr("run_as_non_root")}
	})
	r.each("image_pull_secrets", func(b *reader) {
		s.ImagePullSecrets = append(s.ImagePullSecrets, api.LocalObjectReference{Name: b.str("name")})
	})
}

func containerExtrasFrom(r *reader, c *api.Container) {
	r.each("env_from", func(e *reader) {
		from := api.EnvFromSource{Prefix: e.str("prefix")}
		e.with("config_map_ref", func(ref *reader) {
			from.ConfigMapRef = &api.NameRef{Name: ref.str("name"), Optional: ref.boolPtr("optional")}
		})
		e.with("secret_ref", func(ref *reader) {
			from.SecretRef = &api.NameRef{Name: ref.str("name"), Optional: ref.boolPtr("optional")}
		})
		c.EnvFrom = append(c.EnvFrom, from)
	})
	r.with("security_context", func(b *reader) {
		c.SecurityContext = &api.SecurityContext{
			RunAsUser: b.int64Ptr("run_as_user"), RunAsGroup: b.int64Ptr("run_as_group"), RunAsNonRoot: b.boolPtr("run_as_non_root"),
			ReadOnlyRootFilesystem: b.boolPtr("read_only_root_filesystem"), Privileged: b.boolPtr("privileged"),
			AllowPrivilegeEscalation: b.boolPtr("allow_privilege_escalation"),
		}
		b.with("capabilities", func(cb *reader) {
			c.SecurityContext.Capabilities = &api.Capabilities{}
			for _, n := range cb.strList("add") {
				c.SecurityContext.Capabilities.Add = append(c.SecurityContext.Capabilities.Add, api.Capability(n))
			}
			for _, n := range cb.strList("drop") {
				c.SecurityContext.Capabilities.Drop = append(c.SecurityContext.Capabilities.Drop, api.Capability(n))
			}
		})
	})
}

func setBoolPtr(m map[string]any, k string, v *bool) {
	if v != nil {
		m[k] = *v
	}
}

func podSecurityTo(s *api.PodSpec, out map[string]any) {
	if p := s.SecurityContext; p != nil {
		m := map[string]any{}
		setIntPtr(m, "run_as_user", p.RunAsUser)
		setIntPtr(m, "run_as_group", p.RunAsGroup)
		setBoolPtr(m, "run_as_non_root", p.RunAsNonRoot)
		out["security_context"] = m
	}
	var ips []any
	for _, r := range s.ImagePullSecrets {
		ips = append(ips, strBlock("name", r.Name))
	}
	setBlocks(out, "image_pull_secrets", ips)
}

func containerExtrasTo(c *api.Container, out map[string]any) {
	var ef []any
	for _, e := range c.EnvFrom {
		m := strBlock("prefix", e.Prefix)
		ref := func(r *api.NameRef) map[string]any {
			if r == nil {
				return nil
			}
			rm := strBlock("name", r.Name)
			setBoolPtr(rm, "optional", r.Optional)
			return rm
		}
		setBlock(m, "config_map_ref", ref(e.ConfigMapRef))
		setBlock(m, "secret_ref", ref(e.SecretRef))
		ef = append(ef, m)
	}
	setBlocks(out, "env_from", ef)
	if s := c.SecurityContext; s != nil {
		m := map[string]any{}
		setIntPtr(m, "run_as_user", s.RunAsUser)
		setIntPtr(m, "run_as_group", s.RunAsGroup)
		setBoolPtr(m, "run_as_non_root", s.RunAsNonRoot)
		setBoolPtr(m, "read_only_root_filesystem", s.ReadOnlyRootFilesystem)
		setBoolPtr(m, "privileged", s.Privileged)
		setBoolPtr(m, "allow_privilege_escalation", s.AllowPrivilegeEscalation)
		if caps := s.Capabilities; caps != nil {
			cm := map[string]any{}
			var add, drop []string
			for _, c := range caps.Add {
				add = append(add, string(c))
			}
			for _, c := range caps.Drop {
				drop = append(drop, string(c))
			}
			setList(cm, "add", add)
			setList(cm, "drop", drop)
			m["capabilities"] = cm
		}
		out["security_context"] = m
	}
}
