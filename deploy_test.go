package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"crmgate/config"
	"crmgate/providers"
)

// k8sDoc is what the test reads of a Kubernetes manifest.
type k8sDoc struct {
	Kind string `yaml:"kind"`
	Data map[string]string
	// Secret
	StringData map[string]string `yaml:"stringData"`
	Spec       struct {
		Template struct {
			Spec struct {
				Grace      int `yaml:"terminationGracePeriodSeconds"`
				Containers []struct {
					Ports []struct {
						ContainerPort int `yaml:"containerPort"`
					} `yaml:"ports"`
					Readiness *probe `yaml:"readinessProbe"`
					Liveness  *probe `yaml:"livenessProbe"`
				} `yaml:"containers"`
				Volumes []struct {
					ConfigMap struct {
						Items []struct{ Key, Path string } `yaml:"items"`
					} `yaml:"configMap"`
				} `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
		Ports []struct {
			TargetPort int `yaml:"targetPort"`
		} `yaml:"ports"`
	} `yaml:"spec"`
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port int    `yaml:"port"`
	} `yaml:"httpGet"`
}

// The deployment kit agrees with the gateway: the ConfigMap's configuration
// loads with the Secret's values, every ${VAR} in it has a Secret key, the
// probes hit /readyz and /healthz on the configured listen port, the grace
// period is above shutdown_timeout, and the compose file runs Redis with an
// append-only file and two replicas behind one port.
func TestDeployKitMatchesTheConfiguration(t *testing.T) {
	var docs []k8sDoc
	files, _ := filepath.Glob("deploy/kubernetes/*.yaml")
	if len(files) == 0 {
		t.Fatal("no manifests in deploy/kubernetes")
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		for {
			var d k8sDoc
			if err := dec.Decode(&d); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			docs = append(docs, d)
		}
	}
	byKind := map[string]k8sDoc{}
	for _, d := range docs {
		byKind[d.Kind] = d
	}
	for _, k := range []string{"Deployment", "PodDisruptionBudget", "Service", "ConfigMap", "Secret"} {
		if _, ok := byKind[k]; !ok {
			t.Errorf("no %s", k)
		}
	}
	cm, secret, dep := byKind["ConfigMap"], byKind["Secret"], byKind["Deployment"]
	cfgText := cm.Data["crmgate.yaml"]
	for _, m := range regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`).FindAllStringSubmatch(cfgText, -1) {
		if _, ok := secret.StringData[m[1]]; !ok {
			t.Errorf("${%s} in the ConfigMap has no key in the Secret", m[1])
		}
	}
	// Lay the ConfigMap out as the Deployment mounts it and load it.
	dir := t.TempDir()
	for _, v := range dep.Spec.Template.Spec.Volumes {
		for _, it := range v.ConfigMap.Items {
			p := filepath.Join(dir, it.Path)
			_ = os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte(cm.Data[it.Key]), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	env := func(k string) (string, bool) { v, ok := secret.StringData[k]; return v, ok }
	cfg, err := config.LoadFile(filepath.Join(dir, "crmgate.yaml"), providers.Factories(), env)
	if err != nil {
		t.Fatalf("the ConfigMap's configuration does not load as mounted: %v", err)
	}
	_, portText, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(portText)
	spec := dep.Spec.Template.Spec
	if len(spec.Containers) != 1 {
		t.Fatalf("%d containers", len(spec.Containers))
	}
	c := spec.Containers[0]
	if len(c.Ports) != 1 || c.Ports[0].ContainerPort != port {
		t.Errorf("container ports %+v, the configuration listens on %d", c.Ports, port)
	}
	if c.Readiness == nil || c.Readiness.HTTPGet.Path != "/readyz" || c.Readiness.HTTPGet.Port != port {
		t.Errorf("readiness probe %+v", c.Readiness)
	}
	if c.Liveness == nil || c.Liveness.HTTPGet.Path != "/healthz" || c.Liveness.HTTPGet.Port != port {
		t.Errorf("liveness probe %+v", c.Liveness)
	}
	grace := time.Duration(spec.Grace) * time.Second
	if grace <= cfg.ShutdownTimeout || grace <= config.DefaultShutdownTimeout {
		t.Errorf("terminationGracePeriodSeconds %v is not above shutdown_timeout %v", grace, cfg.ShutdownTimeout)
	}
	if sp := byKind["Service"].Spec.Ports; len(sp) != 1 || sp[0].TargetPort != port {
		t.Errorf("service ports %+v", sp)
	}

	var compose struct {
		Services map[string]struct {
			Image       string         `yaml:"image"`
			Build       map[string]any `yaml:"build"`
			Command     []string       `yaml:"command"`
			Ports       []string       `yaml:"ports"`
			Expose      []string       `yaml:"expose"`
			StopGrace   string         `yaml:"stop_grace_period"`
			Environment map[string]string
		} `yaml:"services"`
	}
	raw, err := os.ReadFile("deploy/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatal(err)
	}
	gateways, fronts := 0, 0
	for name, s := range compose.Services {
		cmd := strings.Join(s.Command, " ")
		switch {
		case strings.HasPrefix(s.Image, "redis"):
			if !strings.Contains(cmd, "--appendonly yes") || !strings.Contains(cmd, "--appendfsync everysec") {
				t.Errorf("redis runs %q: no append-only file fsync'd every second", cmd)
			}
		case s.Build != nil:
			gateways++
			if s.Build["dockerfile"] != "Dockerfile" {
				t.Errorf("%s is not built from the Dockerfile: %v", name, s.Build)
			}
			if len(s.Expose) != 1 || s.Expose[0] != portText {
				t.Errorf("%s exposes %v, the configuration listens on %s", name, s.Expose, portText)
			}
			if g, err := time.ParseDuration(s.StopGrace); err != nil || g <= config.DefaultShutdownTimeout {
				t.Errorf("%s stop_grace_period %q is not above shutdown_timeout", name, s.StopGrace)
			}
		case len(s.Ports) > 0:
			fronts++
		}
	}
	if gateways != 2 || fronts != 1 {
		t.Errorf("compose: %d gateways, %d services with a published port; want 2 and 1", gateways, fronts)
	}
}
