package deps

import (
	"encoding/json"
	"fmt"
	"strings"
)

// cdxComponent is the part of a CycloneDX component that is read (CycloneDX 1.2–1.6 JSON).
type cdxComponent struct {
	Type               string `json:"type"`
	Group              string `json:"group"`
	Name               string `json:"name"`
	Version            string `json:"version"`
	PURL               string `json:"purl"`
	ExternalReferences []struct {
		Type string `json:"type"`
		URL  string `json:"url"`
	} `json:"externalReferences"`
	Components []cdxComponent `json:"components"`
}

type cdxBOM struct {
	Metadata struct {
		Component *cdxComponent `json:"component"`
	} `json:"metadata"`
	Components []cdxComponent `json:"components"`
}

// cdxSkipped are the component types that are not software packages.
var cdxSkipped = map[string]bool{"file": true, "data": true, "operating-system": true, "device": true,
	"firmware": true, "device-driver": true, "machine-learning-model": true, "cryptographic-asset": true}

func parseCycloneDX(data []byte) (Manifest, error) {
	var bom cdxBOM
	if err := json.Unmarshal(data, &bom); err != nil {
		return Manifest{}, fmt.Errorf("CycloneDX: %w", jsonError(data, err))
	}
	m := Manifest{Format: FormatCycloneDX}
	if c := bom.Metadata.Component; c != nil {
		m.Service = c.Name
	}
	var walk func(cs []cdxComponent)
	walk = func(cs []cdxComponent) {
		for i := range cs {
			c := &cs[i]
			if !cdxSkipped[c.Type] {
				if p, ok := cdxPackage(c); ok {
					m.Packages = append(m.Packages, p)
				}
			}
			walk(c.Components)
		}
	}
	walk(bom.Components)
	return m, nil
}

func cdxPackage(c *cdxComponent) (Package, bool) {
	p := Package{Name: c.Name, Version: c.Version, PURL: c.PURL}
	if c.Group != "" {
		p.Name = c.Group + "/" + c.Name
	}
	if u, ok := parsePURL(c.PURL); ok {
		p.Ecosystem, p.Name = u.Type, u.packageName()
		if u.Version != "" {
			p.Version = u.Version
		}
		p.Repo = u.repo()
	}
	if p.Repo == "" {
		for _, r := range c.ExternalReferences {
			if r.Type == "vcs" {
				if repo := RepoFromURL(r.URL); repo != "" {
					p.Repo = repo
					break
				}
			}
		}
	}
	return p, p.Name != ""
}

// spdxDoc is the part of an SPDX 2.x JSON document that is read.
type spdxDoc struct {
	Name              string   `json:"name"`
	DocumentDescribes []string `json:"documentDescribes"`
	Packages          []struct {
		SPDXID           string `json:"SPDXID"`
		Name             string `json:"name"`
		VersionInfo      string `json:"versionInfo"`
		DownloadLocation string `json:"downloadLocation"`
		ExternalRefs     []struct {
			ReferenceCategory string `json:"referenceCategory"`
			ReferenceType     string `json:"referenceType"`
			ReferenceLocator  string `json:"referenceLocator"`
		} `json:"externalRefs"`
	} `json:"packages"`
	Relationships []struct {
		Element string `json:"spdxElementId"`
		Type    string `json:"relationshipType"`
		Related string `json:"relatedSpdxElement"`
	} `json:"relationships"`
}

func parseSPDX(data []byte) (Manifest, error) {
	var doc spdxDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return Manifest{}, fmt.Errorf("SPDX: %w", jsonError(data, err))
	}
	m := Manifest{Format: FormatSPDX}
	// The document describes the service: documentDescribes, or DESCRIBES relationships of the
	// document (SPDX 2.3 deprecates the former for the latter).
	described := map[string]bool{}
	for _, id := range doc.DocumentDescribes {
		described[id] = true
	}
	for _, r := range doc.Relationships {
		switch {
		case r.Element == "SPDXRef-DOCUMENT" && r.Type == "DESCRIBES":
			described[r.Related] = true
		case r.Related == "SPDXRef-DOCUMENT" && r.Type == "DESCRIBED_BY":
			described[r.Element] = true
		}
	}
	for _, sp := range doc.Packages {
		if described[sp.SPDXID] {
			if m.Service == "" {
				m.Service = sp.Name
			}
			continue
		}
		p := Package{Name: sp.Name, Version: sp.VersionInfo}
		for _, ref := range sp.ExternalRefs {
			if ref.ReferenceType != "purl" {
				continue
			}
			if u, ok := parsePURL(ref.ReferenceLocator); ok {
				p.PURL, p.Ecosystem, p.Name = ref.ReferenceLocator, u.Type, u.packageName()
				if u.Version != "" {
					p.Version = u.Version
				}
				p.Repo = u.repo()
				break
			}
		}
		if p.Repo == "" {
			p.Repo = RepoFromURL(sp.DownloadLocation) // NOASSERTION, NONE and registry URLs give ""
		}
		if p.Name != "" {
			m.Packages = append(m.Packages, p)
		}
	}
	if m.Service == "" {
		m.Service = strings.TrimSpace(doc.Name)
	}
	return m, nil
}
