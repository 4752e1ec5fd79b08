package deps

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdx/v2/common"
	"github.com/spdx/tools-golang/tagvalue"
)

// cdxSkipped are the component types that are not software packages.
var cdxSkipped = map[cdx.ComponentType]bool{"file": true, "data": true, "operating-system": true, "device": true,
	"firmware": true, "device-driver": true, "machine-learning-model": true, "cryptographic-asset": true}

// parseCycloneDX reads a CycloneDX BOM (JSON or XML, any specification version the CycloneDX
// library reads) with the CycloneDX project's own library.
func parseCycloneDX(data []byte, format cdx.BOMFileFormat) (Manifest, error) {
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(bytes.NewReader(data), format).Decode(&bom); err != nil {
		if format == cdx.BOMFileFormatXML {
			return Manifest{}, fmt.Errorf("CycloneDX: %w", xmlError(err))
		}
		return Manifest{}, fmt.Errorf("CycloneDX: %w", jsonError(data, err))
	}
	m := Manifest{Format: FormatCycloneDX}
	if bom.Metadata != nil && bom.Metadata.Component != nil {
		m.Service = bom.Metadata.Component.Name
	}
	var walk func(cs *[]cdx.Component)
	walk = func(cs *[]cdx.Component) {
		if cs == nil {
			return
		}
		for i := range *cs {
			c := &(*cs)[i]
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

func cdxPackage(c *cdx.Component) (Package, bool) {
	p := Package{Name: c.Name, Version: c.Version, PURL: c.PackageURL}
	if c.Group != "" {
		p.Name = c.Group + "/" + c.Name
	}
	if u, ok := parsePURL(c.PackageURL); ok {
		p.Ecosystem, p.Name = u.Type, u.nameAs(p.Name)
		if u.Version != "" {
			p.Version = u.Version
		}
		p.Repo = u.repo()
	}
	if p.Repo == "" && c.ExternalReferences != nil {
		for _, r := range *c.ExternalReferences {
			if r.Type == cdx.ERTypeVCS {
				if repo := RepoFromURL(r.URL); repo != "" {
					p.Repo = repo
					break
				}
			}
		}
	}
	return p, p.Name != ""
}

// xmlError describes an XML error with the line where it happened.
func xmlError(err error) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		if strings.Contains(se.Msg, "unexpected EOF") {
			return fmt.Errorf("truncated XML: the document stops at line %d, before it is complete", se.Line)
		}
		return fmt.Errorf("invalid XML at line %d: %s", se.Line, se.Msg)
	}
	return fmt.Errorf("invalid XML: %w", err)
}

// parseSPDX reads an SPDX 2.1–2.3 document, JSON or tag-value, with the SPDX project's own
// library.
func parseSPDX(data []byte, tagValue bool) (Manifest, error) {
	var doc *spdx.Document
	var err error
	if tagValue {
		doc, err = tagvalue.Read(bytes.NewReader(data))
		if err != nil {
			return Manifest{}, fmt.Errorf("SPDX tag-value: %v", err)
		}
	} else {
		doc, err = spdxjson.Read(bytes.NewReader(data))
		if err != nil {
			return Manifest{}, fmt.Errorf("SPDX: %w", jsonError(data, err))
		}
	}
	m := Manifest{Format: FormatSPDX}
	// The document describes the service: DESCRIBES relationships of the document (the library
	// turns the older documentDescribes field into those), or DESCRIBED_BY the other way round.
	described := map[common.ElementID]bool{}
	for _, r := range doc.Relationships {
		if r == nil {
			continue
		}
		switch {
		case r.RefA.ElementRefID == "DOCUMENT" && r.RefA.DocumentRefID == "" && r.Relationship == common.TypeRelationshipDescribe:
			described[r.RefB.ElementRefID] = true
		case r.RefB.ElementRefID == "DOCUMENT" && r.RefB.DocumentRefID == "" && r.Relationship == common.TypeRelationshipDescribeBy:
			described[r.RefA.ElementRefID] = true
		}
	}
	for _, sp := range doc.Packages {
		if sp == nil {
			continue
		}
		if described[sp.PackageSPDXIdentifier] {
			if m.Service == "" {
				m.Service = sp.PackageName
			}
			continue
		}
		p := Package{Name: sp.PackageName, Version: sp.PackageVersion}
		for _, ref := range sp.PackageExternalReferences {
			if ref == nil || ref.RefType != common.TypePackageManagerPURL {
				continue
			}
			if u, ok := parsePURL(ref.Locator); ok {
				p.PURL, p.Ecosystem, p.Name = ref.Locator, u.Type, u.nameAs(p.Name)
				if u.Version != "" {
					p.Version = u.Version
				}
				p.Repo = u.repo()
				break
			}
		}
		if p.Repo == "" {
			p.Repo = RepoFromURL(sp.PackageDownloadLocation) // NOASSERTION, NONE and registry URLs give ""
		}
		if p.Name != "" {
			m.Packages = append(m.Packages, p)
		}
	}
	if m.Service == "" {
		m.Service = strings.TrimSpace(doc.DocumentName)
	}
	return m, nil
}
