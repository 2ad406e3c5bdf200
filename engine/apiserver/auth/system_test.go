package auth

import "testing"

// TestSystemTokens: the control plane's token is recognised as system, also
// when its record was stored before the flag existed (an upgraded data
// directory): Ensure marks it, and every server then sees the flag.
func TestSystemTokens(t *testing.T) {
	ctx := ctxT(t)
	s := newStore(t)
	tk := newTokens(t, s, nil)
	const token = "sys000.aaaaaaaaaaaaaaaaaaaaaaaaaa"
	if err := tk.Ensure(ctx, token, CreateOptions{Role: RoleAdmin, Description: "stored without the flag"}); err != nil {
		t.Fatal(err)
	}
	if u, err := tk.Authenticate(ctx, token); err != nil || u.System {
		t.Fatalf("before marking: %+v, %v; want an admin that is not system", u, err)
	}
	if err := tk.Ensure(ctx, token, CreateOptions{Role: RoleAdmin, System: true}); err != nil {
		t.Fatalf("marking the stored token: %v", err)
	}
	for name, tokens := range map[string]*Tokens{"this server": tk, "another server": newTokens(t, s, nil)} {
		u, err := tokens.Authenticate(ctx, token)
		if err != nil || !u.System || u.Role != RoleAdmin {
			t.Errorf("%s: %+v, %v; want a system admin", name, u, err)
		}
	}
	other, _, err := tk.Create(ctx, CreateOptions{Role: RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := tk.Authenticate(ctx, other); u.System {
		t.Error("an ordinary admin token authenticated as system")
	}
}
