# Copyright: (c) 2026, iomesh.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sphinx configuration of the docs site (scripts/build_docsite.sh, make docsite).

Started from `antsibull-docs sphinx-init --use-current`; the differences: no intersphinx (the build runs offline),
references to the Ansible documentation become links to docs.ansible.com, and MyST reads the Markdown documents
the thin pages of docs/docsite/rst include
(the markdown-include directive below).
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

import yaml
from docutils import nodes
from docutils.parsers.rst import directives
from docutils.utils import new_document
from myst_parser.parsers.sphinx_ import MystParser
from pygments.lexers.special import TextLexer
from sphinx.util.docutils import SphinxDirective

# The repository: the Markdown documents are read where they are.
REPOSITORY = Path(__file__).resolve().parents[3]

project = 'iomesh.multicluster'
copyright = 'iomesh.multicluster contributors'  # pylint: disable=redefined-builtin
title = 'iomesh.multicluster documentation'
html_short_title = title

extensions = ['sphinx_antsibull_ext', 'myst_parser']
source_suffix = {'.rst': 'restructuredtext'}
# The topology picture (scripts/build_docsite.sh draws it).
exclude_patterns = ['_generated']

pygments_style = 'ansible'
highlight_language = 'YAML+Jinja'
html_theme = 'sphinx_ansible_theme'
GALAXY = yaml.safe_load((REPOSITORY / 'galaxy.yml').read_text(encoding='utf-8'))
html_theme_options = {
    'topbar_links': {'Repository': GALAXY['repository'], 'Issues': GALAXY['issues']},
    'documentation_home_url': GALAXY['repository'],
    'show_rtd_ethical_ads': False,
}
html_show_sphinx = False
display_version = False
html_use_smartypants = True
html_use_modindex = False
html_use_index = False
html_copy_source = False
default_role = 'any'
nitpicky = True

# Links to sections (architecture.md#waits) need anchors on the headings of every level the documents link to.
myst_heading_anchors = 3

# The Ansible documentation that antsibull-docs' pages refer to (intersphinx would download its inventory).
ANSIBLE_DOCS = 'https://docs.ansible.com/projects/ansible/devel/'
ANSIBLE_LABELS = {
    'action_plugins': 'plugins/action.html',
    'ansible_configuration_settings': 'reference_appendices/config.html',
    'common_return_values': 'reference_appendices/common_return_values.html',
}
OTHER_COLLECTION_PLUGIN = re.compile(r'^ansible_collections\.(?!iomesh\.multicluster\.)(\w+)\.(\w+)\.(\w+)_([a-z]+)$')
# A Markdown link to a local Markdown file: [text](path.md#anchor).
MARKDOWN_LINK = re.compile(r'\]\((?![a-z]+:)([^)\s#]+\.md)(#[^)\s]*)?\)')
MARKDOWN_INCLUDE = re.compile(r'^\.\. markdown-include:: (\S+)$', re.M)


def ansible_docs_link(app, env, node, contnode):  # pylint: disable=unused-argument
    """Resolve a reference to a page of the Ansible documentation or another collection's plugin as a link."""
    if node.get('refdomain') != 'std' or node.get('reftype') != 'ref':
        return None
    target = node['reftarget']
    page = ANSIBLE_LABELS.get(target)
    match = OTHER_COLLECTION_PLUGIN.match(target)
    if match:
        page = 'collections/{0}/{1}/{2}_{3}.html'.format(*match.groups())
    if page is None:
        return None
    return nodes.reference('', '', contnode, internal=False, refuri=ANSIBLE_DOCS + page)


def markdown_pages(srcdir: Path) -> dict[str, str]:
    """{Markdown document, relative to the repository: the page (source path) that includes it first}."""
    pages: dict[str, str] = {}
    for page in sorted(srcdir.glob('collections/**/*.rst')):
        for document in MARKDOWN_INCLUDE.findall(page.read_text(encoding='utf-8')):
            pages.setdefault(document, '/' + page.relative_to(srcdir).as_posix())
    return pages


def between(text: str, options: dict) -> str:
    """The part of text the options select, as the include directive's options select it; start-at keeps the
    text it names. A text that is missing is an error."""
    for option, keep in (('start-at', True), ('start-after', False)):
        if option in options:
            marker = options[option]
            if marker not in text:
                raise ValueError(f'{option} text not found: {marker!r}')
            text = (marker if keep else '') + text.split(marker, 1)[1]
    if 'end-before' in options:
        marker = options['end-before']
        if marker not in text:
            raise ValueError(f'end-before text not found: {marker!r}')
        text = text.split(marker, 1)[0]
    return text


def top_headings(text: str) -> str:
    """The Markdown with its headings raised so that the highest is H1: a section of a document starts at H2 or H3,
    a page at H1."""
    fence = re.compile(r'^(```|~~~)')
    heading = re.compile(r'^(#{1,6}) ')
    levels, in_fence = [], False
    lines = text.splitlines(keepends=True)
    for line in lines:
        in_fence = in_fence != bool(fence.match(line))
        match = None if in_fence else heading.match(line)
        if match:
            levels.append(len(match.group(1)))
    shift = min(levels, default=1) - 1
    if not shift:
        return text
    out, in_fence = [], False
    for line in lines:
        in_fence = in_fence != bool(fence.match(line))
        out.append(line[shift:] if not in_fence and heading.match(line) else line)
    return ''.join(out)


class MarkdownInclude(SphinxDirective):
    """``.. markdown-include:: <path in the repository>``: the Markdown document, or the part of it that the
    ``start-at`` (inclusive), ``start-after`` and ``end-before`` texts select, parsed by MyST with its highest
    heading as H1.

    The documents link to each other as files in the repository (docs/pitfalls.md, ../README.md#...); on the site
    those links lead to the pages that include the files. A link to a file that no page includes is left as it is,
    and MyST reports it (an error in this build).
    """

    required_arguments = 1
    option_spec = {'start-at': directives.unchanged_required, 'start-after': directives.unchanged_required,
                   'end-before': directives.unchanged_required}

    def run(self) -> list[nodes.Node]:
        name = self.arguments[0]
        path = REPOSITORY / name
        self.env.note_dependency(str(path))
        try:
            text = between(path.read_text(encoding='utf-8'), self.options)
        except (OSError, ValueError) as exc:
            raise self.severe(f'markdown-include {name}: {exc}') from exc
        pages = markdown_pages(Path(self.env.srcdir))
        here = posixpath.dirname(name)

        def to_page(match: re.Match) -> str:
            page = pages.get(posixpath.normpath(posixpath.join(here, match.group(1))))
            if page is None:
                return match.group(0)
            return f'](project:{page}{match.group(2) or ""})'

        document = new_document(str(path), self.state.document.settings)
        MystParser().parse(top_headings(MARKDOWN_LINK.sub(to_page, text)), document)
        return document.children


def setup(app):
    # GitHub draws the Mermaid blocks of the documents; here they are shown as source.
    app.add_lexer('mermaid', TextLexer)
    app.add_directive('markdown-include', MarkdownInclude)
    app.connect('missing-reference', ansible_docs_link)
