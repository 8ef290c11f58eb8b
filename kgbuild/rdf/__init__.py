"""The store's RDF face: IRIs, streaming export, import, VoID, SSSOM, SHACL validation.

Engines, measured on one million triples (see docs/rdf.md): N-Triples and N-Quads are written
by a streaming line writer over pyarrow string kernels (the store is never held as an rdflib
graph); Turtle goes through rdflib and is refused above a size limit; import parses with
pyoxigraph when it is installed (the ``rdf`` extra) and falls back to rdflib.
"""
