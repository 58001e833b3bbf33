// Package benchkit holds the inputs and helpers the benchmarks share.
package benchkit

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"
)

// SpringBoot is the runtime classpath of a Spring Boot 3.2 web service with
// PostgreSQL and Guava: real Maven coordinates (group:artifact:version).
var SpringBoot = []string{
	"ch.qos.logback:logback-classic:1.4.11",
	"ch.qos.logback:logback-core:1.4.11",
	"com.fasterxml.jackson.core:jackson-annotations:2.15.3",
	"com.fasterxml.jackson.core:jackson-core:2.15.3",
	"com.fasterxml.jackson.core:jackson-databind:2.15.3",
	"com.fasterxml.jackson.datatype:jackson-datatype-jdk8:2.15.3",
	"com.fasterxml.jackson.datatype:jackson-datatype-jsr310:2.15.3",
	"com.fasterxml.jackson.module:jackson-module-parameter-names:2.15.3",
	"com.google.code.findbugs:jsr305:3.0.2",
	"com.google.errorprone:error_prone_annotations:2.21.1",
	"com.google.guava:failureaccess:1.0.1",
	"com.google.guava:guava:32.1.3-jre",
	"com.google.j2objc:j2objc-annotations:2.8",
	"com.zaxxer:HikariCP:5.0.1",
	"commons-codec:commons-codec:1.16.0",
	"io.micrometer:micrometer-commons:1.12.0",
	"io.micrometer:micrometer-observation:1.12.0",
	"jakarta.annotation:jakarta.annotation-api:2.1.1",
	"org.apache.commons:commons-lang3:3.13.0",
	"org.apache.logging.log4j:log4j-api:2.21.1",
	"org.apache.logging.log4j:log4j-to-slf4j:2.21.1",
	"org.apache.tomcat.embed:tomcat-embed-core:10.1.16",
	"org.apache.tomcat.embed:tomcat-embed-el:10.1.16",
	"org.apache.tomcat.embed:tomcat-embed-websocket:10.1.16",
	"org.checkerframework:checker-qual:3.37.0",
	"org.postgresql:postgresql:42.6.0",
	"org.slf4j:jul-to-slf4j:2.0.9",
	"org.slf4j:slf4j-api:2.0.9",
	"org.springframework.boot:spring-boot:3.2.0",
	"org.springframework.boot:spring-boot-autoconfigure:3.2.0",
	"org.springframework.boot:spring-boot-starter:3.2.0",
	"org.springframework.boot:spring-boot-starter-json:3.2.0",
	"org.springframework.boot:spring-boot-starter-logging:3.2.0",
	"org.springframework.boot:spring-boot-starter-tomcat:3.2.0",
	"org.springframework.boot:spring-boot-starter-web:3.2.0",
	"org.springframework:spring-aop:6.1.1",
	"org.springframework:spring-beans:6.1.1",
	"org.springframework:spring-context:6.1.1",
	"org.springframework:spring-core:6.1.1",
	"org.springframework:spring-expression:6.1.1",
	"org.springframework:spring-jcl:6.1.1",
	"org.springframework:spring-web:6.1.1",
	"org.springframework:spring-webmvc:6.1.1",
	"org.yaml:snakeyaml:2.2",
}

// Cached returns dir when it holds a complete build of inputs version, else builds
// it with build into a temporary sibling and renames it into place.
func Cached(dir, version string, rebuild bool, build func(tmp string) error) (string, error) {
	stamp := filepath.Join(dir, ".bench-complete")
	if !rebuild {
		if b, err := os.ReadFile(stamp); err == nil && strings.TrimSpace(string(b)) == version {
			return dir, nil
		}
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), filepath.Base(dir)+".tmp-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	if err := build(tmp); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(tmp, ".bench-complete"), []byte(version+"\n"), 0o644); err != nil {
		return "", err
	}
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return "", err
	}
	return dir, nil
}

// GradleLockfile writes a gradle.lockfile pinning coords (group:artifact:version).
func GradleLockfile(coords []string) []byte {
	var b bytes.Buffer
	b.WriteString("# This is a Gradle generated file for dependency locking.\n# Manual edits can break the build and are not advised.\n# This file is expected to be part of source control.\n")
	sorted := append([]string(nil), coords...)
	sort.Strings(sorted)
	for _, c := range sorted {
		fmt.Fprintf(&b, "%s=compileClasspath,productionRuntimeClasspath,runtimeClasspath,testCompileClasspath,testRuntimeClasspath\n", c)
	}
	b.WriteString("empty=annotationProcessor,developmentOnly,testAnnotationProcessor\n")
	return b.Bytes()
}

// WriteFile writes b to name, creating its directory.
func WriteFile(name string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	return os.WriteFile(name, b, 0o644)
}

// LoadAverage is the first three fields of /proc/loadavg, or "" where there is none.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// Median is the middle of ds (the upper one of an even count).
func Median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// ProcessCPU is the user and system CPU time this process has used.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
