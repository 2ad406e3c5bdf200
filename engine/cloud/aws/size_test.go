package aws

import (
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// TestNoClientField guards the binary size (see calls): no field of a Cloud,
// however deep, may hold an *ec2.Client, or a binary that uses
// reflect.Method keeps all of EC2's operations (cmd/maestro: +44.5 MB).
func TestNoClientField(t *testing.T) {
	client := reflect.TypeFor[*ec2.Client]()
	seen := map[reflect.Type]bool{}
	var walk func(typ reflect.Type, path string)
	walk = func(typ reflect.Type, path string) {
		if typ == client {
			t.Errorf("%s holds an *ec2.Client: keep method values (calls) instead", path)
		}
		if seen[typ] {
			return
		}
		seen[typ] = true
		switch typ.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Chan:
			walk(typ.Elem(), path)
		case reflect.Map:
			walk(typ.Key(), path)
			walk(typ.Elem(), path)
		case reflect.Struct:
			for i := range typ.NumField() {
				f := typ.Field(i)
				walk(f.Type, path+"."+f.Name)
			}
		}
	}
	walk(reflect.TypeFor[Cloud](), "Cloud")
}
