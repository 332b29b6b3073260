"""Controlled vocabularies of the registry, with the synonyms people write.

Each vocabulary maps a canonical lower-case term to the other spellings that mean it.
`normalize(kind, value)` returns the canonical term or raises `ValueError`.
"""
from __future__ import annotations

import re

ORGANS: dict[str, list[str]] = {
    "adrenal-gland": ["adrenal", "adrenal gland"],
    "bile-duct": ["bile duct", "cholangio", "biliary"],
    "bladder": ["urinary bladder"],
    "blood": ["peripheral blood"],
    "bone": ["bones", "brone"],
    "bone-marrow": ["marrow", "bone marrow"],
    "brain": ["glioblastoma", "glioma", "cns"],
    "breast": ["mammary", "mammary gland"],
    "cervix": ["uterine cervix", "cervical"],
    "colon": ["colorectal", "crc", "colon and rectum", "rectum", "large intestine", "colorectal polyps"],
    "esophagus": ["oesophagus", "oesophageal", "esophageal"],
    "eye": ["uvea", "retina"],
    "head-and-neck": ["head and neck", "hnsc", "oral cavity", "mouth", "tongue"],
    "heart": [],
    "kidney": ["renal", "renal cell carcinoma"],
    "liver": ["hepatic"],
    "lung": ["lungs", "lung adenocarcinoma"],
    "lymph-node": ["lymph node", "lymph nodes", "sentinel lymph node"],
    "muscle": ["skeletal muscle"],
    "ovary": ["ovarian"],
    "pancreas": ["pancreatic"],
    "pleura": ["mesothelium"],
    "prostate": [],
    "skin": ["melanoma", "cutaneous", "epidermis"],
    "soft-tissue": ["soft tissue", "connective tissue"],
    "small-intestine": ["small intestine", "intestine", "duodenum"],
    "spleen": [],
    "stomach": ["gastric"],
    "testis": ["testes", "testicle"],
    "thymus": [],
    "thyroid": ["thyroid gland"],
    "uterus": ["uterine", "endometrium", "endometrial", "endometrial carcinoma", "corpus uteri"],
    "multiple": ["multi-organ", "multiple organ", "multiple organs", "pan-cancer", "pan cancer", "various"],
    "other": [],
}

STAINS: dict[str, list[str]] = {
    "h&e": ["he", "h-e", "h and e", "hematoxylin and eosin", "haematoxylin and eosin",
            "hematoxylin & eosin", "haematoxylin & eosin", "hne"],
    "ihc": ["immunohistochemistry", "dab", "ihc-dab"],
    "multiplex-ihc": ["mihc", "multiplex ihc"],
    "immunofluorescence": ["if", "mif", "multiplex immunofluorescence", "fluorescence"],
    "pas": ["periodic acid-schiff", "periodic acid schiff"],
    "masson-trichrome": ["trichrome", "masson trichrome", "masson's trichrome"],
    "silver": ["jones silver", "silver stain"],
    "giemsa": ["may-grunwald-giemsa", "may-grünwald-giemsa", "mgg", "pappenheim"],
    "jenner-giemsa": ["jenner giemsa"],
    "wright": ["wright's stain", "wright stain", "wright-giemsa"],
    "papanicolaou": ["pap", "pap stain"],
    "special": ["special stains", "histochemical"],
    "unstained": ["none"],
    "other": ["multiple", "mixed"],
}

TASKS: dict[str, list[str]] = {
    "classification": ["classi", "classif", "cls", "binary classification", "multi-class classification",
                       "multi-label classification", "multiple classification"],
    "segmentation": ["seg", "semantic segmentation", "semantic seg", "tissue segmentation"],
    "instance-segmentation": ["instance seg", "instance segmentation", "nuclei segmentation",
                              "nucleus segmentation", "cell segmentation"],
    "detection": ["det", "cell detection", "object detection", "mitosis detection", "localization"],
    "counting": ["cell counting"],
    "grading": ["gleason grading", "grading score"],
    "regression": ["scoring", "cellularity"],
    "registration": ["image registration"],
    "survival": ["survival prediction", "prognosis", "outcome prediction"],
    "retrieval": ["image retrieval", "search"],
    "vqa": ["visual question answering"],
    "captioning": ["report generation", "image captioning"],
    "representation-learning": ["self-supervised", "representation learning", "pretraining"],
    "stain-normalization": ["stain normalisation", "stain transfer", "virtual staining"],
    "other": [],
}

# Tasks that are kinds of a broader task: `--task segmentation` finds instance-segmentation entries.
BROADER_TASKS: dict[str, str] = {"instance-segmentation": "segmentation"}


def narrower_terms(kind: str, term: str) -> set[str]:
    """`term` and the terms that are kinds of it (only tasks form a hierarchy)."""
    if kind != "task":
        return {term}
    return {term} | {narrow for narrow, broad in BROADER_TASKS.items() if broad == term}


MODALITIES: dict[str, list[str]] = {
    "wsi": ["whole slide", "whole-slide", "whole slide image", "slide"],
    "patch": ["patches", "tile", "tiles"],
    "roi": ["rois", "region of interest", "regions of interest"],
    "tma": ["tissue microarray"],
    "cell": ["cells", "single cell"],
    "mixed": ["multiple", "wsi + patch"],
}

ACCESS: dict[str, list[str]] = {
    "open": ["public", "anonymous"],
    "registration": ["register", "account", "login", "terms"],
    "request": ["application", "on request", "data use agreement", "dua"],
    "unavailable": ["offline", "not available", "withdrawn"],
}

VOCABULARIES: dict[str, dict[str, list[str]]] = {
    "organ": ORGANS,
    "stain": STAINS,
    "task": TASKS,
    "modality": MODALITIES,
    "access": ACCESS,
}

_SPACES = re.compile(r"[\s_]+")


def _key(text: str) -> str:
    return _SPACES.sub(" ", text.strip().lower())


def _build_lookup() -> dict[str, dict[str, str]]:
    lookup: dict[str, dict[str, str]] = {}
    for kind, terms in VOCABULARIES.items():
        table: dict[str, str] = {}
        for term, synonyms in terms.items():
            table[_key(term)] = term
            table[_key(term.replace("-", " "))] = term
            for synonym in synonyms:
                table[_key(synonym)] = term
        lookup[kind] = table
    return lookup


_LOOKUP = _build_lookup()


def normalize(kind: str, value: str) -> str:
    """Return the canonical term of `kind` for `value` (a term or a known synonym)."""
    term = _LOOKUP[kind].get(_key(value))
    if term is None:
        allowed = ", ".join(VOCABULARIES[kind])
        raise ValueError(f"unknown {kind} {value!r}; expected one of: {allowed} "
                         f"(or a documented synonym)")
    return term


def try_normalize(kind: str, value: str) -> str | None:
    """Like `normalize` but returns None for an unknown value."""
    return _LOOKUP[kind].get(_key(value))


def license_restrictions(license_id: str) -> list[str]:
    """Human warnings for a license id: non-commercial, no-derivatives, share-alike."""
    upper = (license_id or "").upper()
    warnings = []
    if "-NC" in upper or "NONCOMMERCIAL" in upper.replace(" ", "") or "NON-COMMERCIAL" in upper:
        warnings.append("non-commercial use only")
    if "-ND" in upper or "NODERIV" in upper.replace(" ", ""):
        warnings.append("no derivatives")
    if "-SA" in upper:
        warnings.append("share-alike")
    return warnings
