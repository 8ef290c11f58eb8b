"""The item -> external KG entity links (the ``external`` column of alignment set A) as an
SSSOM mapping table, ``<name>.sssom.tsv``, beside an export.

One row per linked item: ``item:<id>  owl:sameAs  kg:<entity id>`` with
``semapv:UnspecifiedMatching`` as justification (the links come from the dataset's link table;
how they were made is not known). The CURIE prefixes are the export's, declared in the
embedded YAML metadata block, so the table and the RDF name the same things. Alignment sets A
and B themselves (item/user -> per-graph entity id) need no table: a user or item has one IRI
that is its node in both G_u and G_i.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ckgrec.kgbuild.rdf.iri import NODE_PATH, encode_keys, prefixes

UNSPECIFIED_LICENSE = "https://w3id.org/sssom/license/unspecified"
COLUMNS = ["subject_id", "subject_label", "predicate_id", "object_id", "object_label", "mapping_justification"]


def write_sssom(exporter, path: Path) -> Path:
    base = exporter.base
    pmap = prefixes(base)
    links = exporter.links
    items = exporter.items.set_index("item")
    sub_keys = encode_keys(items.loc[links["item"].to_numpy(), "label"].astype(str).to_numpy(dtype=object))
    obj_keys = encode_keys(links["external"].astype(str).to_numpy(dtype=object))
    names = items.loc[links["item"].to_numpy(), "name"].to_numpy(dtype=object)
    meta = [
        "#curie_map:",
        f"#  item: {pmap['item']}",
        f"#  kg: {base}{NODE_PATH['external_entity']}",
        "#  owl: http://www.w3.org/2002/07/owl#",
        "#  semapv: https://w3id.org/semapv/vocab/",
        f"#mapping_set_id: {base}dataset/sssom",
        f"#license: {exporter.opts.license or UNSPECIFIED_LICENSE}",
        "#mapping_set_description: items of a ckgrec store and the external KG entities they were merged with",
    ]
    buf = io.StringIO()
    w = csv.writer(buf, delimiter="\t", lineterminator="\n")
    w.writerow(COLUMNS)
    for sk, ok, nm, ext in zip(sub_keys, obj_keys, names, links["external"].astype(str)):
        label = "" if nm is None or (isinstance(nm, float)) or str(nm) == "<NA>" else str(nm)
        w.writerow([f"item:{sk}", label, "owl:sameAs", f"kg:{ok}", ext, "semapv:UnspecifiedMatching"])
    path.write_text("\n".join(meta) + "\n" + buf.getvalue(), encoding="utf-8")
    return path
