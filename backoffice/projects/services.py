"""Writes for projects and documents."""

from __future__ import annotations

from django.db import transaction

from .models import Document, Project


@transaction.atomic
def project_create(**fields) -> Project:
    project = Project(**fields)
    project.full_clean()
    project.save()
    return project


@transaction.atomic
def document_create(**fields) -> Document:
    document = Document(**fields)
    document.full_clean()
    document.save()
    return document
