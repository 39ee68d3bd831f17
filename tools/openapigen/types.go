package main

import (
	"bufio"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"crmgate/api"
	"crmgate/api/answer"
	"crmgate/fieldconfig"
	"crmgate/jobs"
)

// answers are the Go types the handlers answer with. The generator checks
// the schema of each, and of every type reachable from its fields, against
// the Go type (exactly its JSON fields), and marks required the fields that
// are always written (no omitempty or omitzero) and nullable the pointers
// written as null: swag reads required only from validate tags, which would
// repeat every json tag, and knows nothing of omitzero.
var answers = []reflect.Type{
	reflect.TypeFor[api.Problem](),
	reflect.TypeFor[api.Health](),
	reflect.TypeFor[api.Readiness](),
	reflect.TypeFor[api.ConnectionList](),
	reflect.TypeFor[api.CustomerPage](),
	reflect.TypeFor[api.HistoryPage](),
	reflect.TypeFor[api.EventPage](),
	reflect.TypeFor[api.CreatedSubscription](),
	reflect.TypeFor[api.SubscriptionList](),
	reflect.TypeFor[api.DeliveryFailureList](),
	reflect.TypeFor[api.Queued](),
	reflect.TypeFor[api.SandboxAccepted](),
	reflect.TypeFor[api.ImportJobPage](),
	reflect.TypeFor[api.ImportResultPage](),
	reflect.TypeFor[answer.Answer](),
	reflect.TypeFor[fieldconfig.Versioned](),
	reflect.TypeFor[jobs.Job](),
}

// bodiesToo are answer types that are also request bodies in which every
// field may be left out (PUT /v1/connections/{id}/field-config), although
// answers always carry them all: OpenAPI 3.0 cannot say "required in answers
// only", so none is marked required.
var bodiesToo = []reflect.Type{
	reflect.TypeFor[fieldconfig.Config](),
	reflect.TypeFor[fieldconfig.Tags](),
}

// matchGoTypes checks every answer type's schema against the type (see
// answers). Schemas are found by the name swag gave them, the `@name` of the
// type's declaration, read from its source under root.
func matchGoTypes(doc *openapi3.T, root string) error {
	names, err := newDocNames(root)
	if err != nil {
		return err
	}
	var errs []error
	for _, t := range reachable(answers) {
		name, err := names.of(t)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ref := doc.Components.Schemas[name]
		if ref == nil || ref.Value == nil {
			if slices.Contains(answers, t) {
				errs = append(errs, fmt.Errorf("schema %s (%s) is missing", name, t))
			}
			// Otherwise only embedded: swag wrote its fields into the
			// embedding type's schema.
			continue
		}
		s := ref.Value
		fields, required, nullable := jsonFields(t)
		var props []string
		for p := range s.Properties {
			props = append(props, p)
		}
		sort.Strings(props)
		if !slices.Equal(props, fields) {
			errs = append(errs, fmt.Errorf("schema %s has properties %v but %s has JSON fields %v", name, props, t, fields))
			continue
		}
		if !slices.Contains(bodiesToo, t) {
			s.Required = required
		}
		for _, p := range nullable {
			s.Properties[p].Value.Nullable = true
		}
	}
	return errors.Join(errs...)
}

// reachable lists the named struct types of this module in roots and in
// their fields (through pointers, slices, maps and embedding), each once.
func reachable(roots []reflect.Type) []reflect.Type {
	var out []reflect.Type
	seen := map[reflect.Type]bool{}
	var visit func(t reflect.Type)
	visit = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map || t.Kind() == reflect.Array {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || t.Name() == "" || !strings.HasPrefix(t.PkgPath(), module+"/") || seen[t] {
			return
		}
		seen[t] = true
		out = append(out, t)
		for i := 0; i < t.NumField(); i++ {
			if f := t.Field(i); f.IsExported() && f.Tag.Get("json") != "-" {
				visit(f.Type)
			}
		}
	}
	for _, t := range roots {
		visit(t)
	}
	return out
}

// jsonFields lists t's JSON field names (sorted), those always written (no
// omitempty or omitzero) and those of them that are pointers (null when nil).
// Embedded structs are flattened as encoding/json does.
func jsonFields(t reflect.Type) (all, required, nullable []string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			a, r, n := jsonFields(f.Type)
			all, required, nullable = append(all, a...), append(required, r...), append(nullable, n...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		all = append(all, name)
		if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
			required = append(required, name)
			if f.Type.Kind() == reflect.Pointer {
				nullable = append(nullable, name)
			}
		}
	}
	sort.Strings(all)
	sort.Strings(required)
	return all, required, nullable
}

// module is the Go module whose types the document describes.
const module = "crmgate"

// docNames finds the document name of a Go type as swag does: the `@name`
// comment that ends its declaration.
type docNames struct {
	root  string
	names map[string]map[string]string // package path → type → name
}

func newDocNames(root string) (*docNames, error) {
	f, err := os.Open(filepath.Join(root, "go.mod"))
	if err != nil {
		return nil, fmt.Errorf("the module root: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m, ok := strings.CutPrefix(sc.Text(), "module "); ok && strings.TrimSpace(m) == module {
			return &docNames{root: root, names: map[string]map[string]string{}}, nil
		}
	}
	return nil, fmt.Errorf("%s is not the root of module %s", root, module)
}

// nameComment is swag's `@name` comment.
var nameComment = regexp.MustCompile(`(?i)^@name\s+(\S+)`)

func (d *docNames) of(t reflect.Type) (string, error) {
	pkg := t.PkgPath()
	names, ok := d.names[pkg]
	if !ok {
		dir := filepath.Join(d.root, filepath.FromSlash(strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")))
		pkgs, err := parser.ParseDir(token.NewFileSet(), dir, func(fi os.FileInfo) bool {
			return !strings.HasSuffix(fi.Name(), "_test.go")
		}, parser.ParseComments)
		if err != nil {
			return "", fmt.Errorf("reading %s: %w", pkg, err)
		}
		names = map[string]string{}
		for _, p := range pkgs {
			for _, file := range p.Files {
				ast.Inspect(file, func(n ast.Node) bool {
					ts, ok := n.(*ast.TypeSpec)
					if !ok || ts.Comment == nil {
						return true
					}
					for _, c := range ts.Comment.List {
						if m := nameComment.FindStringSubmatch(strings.TrimSpace(strings.TrimLeft(c.Text, "/"))); m != nil {
							names[ts.Name.Name] = m[1]
						}
					}
					return true
				})
			}
		}
		d.names[pkg] = names
	}
	if n, ok := names[t.Name()]; ok {
		return n, nil
	}
	return "", fmt.Errorf("%s has no document name: end its declaration with //\t@name\t<Name>", t)
}
