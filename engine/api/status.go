package api

import "reflect"

// CopyStatus sets dst's status to src's (both of the same kind). Kinds
// without a status are left alone.
func CopyStatus(dst, src Object) {
	d := reflect.ValueOf(dst).Elem().FieldByName("Status")
	s := reflect.ValueOf(src).Elem().FieldByName("Status")
	if d.IsValid() && s.IsValid() {
		d.Set(s)
	}
}

// DesiredStateEqual reports whether a and b (same kind) agree on everything
// but metadata and status: the part whose changes bump generation.
func DesiredStateEqual(a, b Object) bool {
	av := reflect.ValueOf(a).Elem()
	bv := reflect.ValueOf(b).Elem()
	t := av.Type()
	for i := range t.NumField() {
		switch t.Field(i).Name {
		case "TypeMeta", "ObjectMeta", "Status":
			continue
		}
		if !reflect.DeepEqual(av.Field(i).Interface(), bv.Field(i).Interface()) {
			return false
		}
	}
	return true
}
