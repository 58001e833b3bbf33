package source

// Owners exposes the CODEOWNERS step to the external tests: it parses data and
// returns the owners of path, the deciding line (0 for none) and the problems.
func Owners(data []byte, path string) (owners []string, line int, problems []string) {
	rules, problems := parseCodeowners(data)
	r, ok := matchOwners(rules, path)
	if !ok {
		return nil, 0, problems
	}
	return r.Owners, r.Line, problems
}
