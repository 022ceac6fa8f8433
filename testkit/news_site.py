"""A small fake news web: article pages that look like real ones, and their feeds.

Pages carry what real news pages carry around the story: a cookie banner, site navigation,
ad slots, a share bar, "related stories", a newsletter box, reader comments, a footer, inline
and external scripts, Open Graph tags and a JSON-LD ``NewsArticle``. Three layouts (a
WordPress-like blog theme, a big-outlet layout with ``<main>`` and data attributes, a wire
service's plain page) so extraction is not tuned to one template. Feeds come in RSS 2.0,
RSS 1.0 (RDF), RSS 0.91 and Atom.

Used by the fetch tests and by ``benchmarks/bench_fetch.py``; everything is served from
127.0.0.1 only.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from dataclasses import dataclass, field
from email.utils import format_datetime


@dataclass(frozen=True)
class Story:
    """One article as an outlet publishes it."""

    slug: str
    title: str
    paragraphs: tuple[str, ...]
    published: dt.datetime
    outlet: str | None = "The Harbour Herald"
    author: str | None = "Maria Lopez"
    layout: str = "blog"  # blog | outlet | wire
    section: str = "City"
    comments: tuple[str, ...] = (
        "Great reporting, thanks for keeping us informed about this.",
        "I drove past yesterday and it still looked closed to me, to be honest.",
    )
    extra_meta: dict[str, str] = field(default_factory=dict)

    def path(self) -> str:
        return f"/news/{self.published:%Y/%m/%d}/{self.slug}"


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _json_ld(story: Story, url: str) -> str:
    data: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": story.title,
        "datePublished": story.published.isoformat(),
        "dateModified": story.published.isoformat(),
        "mainEntityOfPage": url,
        "articleSection": story.section,
    }
    if story.author:
        data["author"] = [{"@type": "Person", "name": story.author}]
    if story.outlet:
        data["publisher"] = {"@type": "Organization", "name": story.outlet}
    return json.dumps(data, ensure_ascii=False)


def _head(story: Story, url: str) -> str:
    outlet = story.outlet or ""
    title = f"{story.title} | {outlet}" if outlet else story.title
    metas = [
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(title)}</title>",
        f'<meta property="og:title" content="{_esc(story.title)}">',
        '<meta property="og:type" content="article">',
        f'<meta property="og:url" content="{_esc(url)}">',
        f'<meta property="og:description" content="{_esc(story.paragraphs[0][:150])}">',
        f'<meta property="article:published_time" content="{story.published.isoformat()}">',
        f'<link rel="canonical" href="{_esc(url)}">',
        '<link rel="stylesheet" href="/static/site.css">',
        '<script async src="https://ads.example.invalid/gpt.js"></script>',
        "<script>window.dataLayer=window.dataLayer||[];"
        "function gtag(){dataLayer.push(arguments);}gtag('js',new Date());</script>",
        f'<script type="application/ld+json">{_json_ld(story, url)}</script>',
    ]
    if outlet:
        metas.append(f'<meta property="og:site_name" content="{_esc(outlet)}">')
    if story.author:
        metas.append(f'<meta name="author" content="{_esc(story.author)}">')
    metas += [f'<meta name="{_esc(k)}" content="{_esc(v)}">' for k, v in story.extra_meta.items()]
    return "<head>\n" + "\n".join(metas) + "\n</head>"


_NAV = """
<div id="cookie-banner" class="consent">We use cookies to improve your experience and to show
 personalised advertising. <button>Accept all</button> <button>Manage choices</button></div>
<header class="site-header">
 <a class="logo" href="/">{outlet}</a>
 <nav class="main-nav" aria-label="Sections"><ul>
  <li><a href="/news/">News</a></li><li><a href="/city/">City</a></li>
  <li><a href="/business/">Business</a></li><li><a href="/sport/">Sport</a></li>
  <li><a href="/culture/">Culture</a></li><li><a href="/opinion/">Opinion</a></li>
  <li><a href="/weather/">Weather</a></li><li><a href="/subscribe/">Subscribe</a></li>
 </ul></nav>
 <form class="search" action="/search"><input name="q" placeholder="Search"></form>
</header>
<div class="ad ad-leaderboard" data-ad-slot="top">Advertisement</div>
"""

_AFTER = """
<div class="share-bar"><a href="#">Share on Facebook</a> <a href="#">Share on X</a>
 <a href="#">Email this story</a></div>
<aside class="related"><h2>Related stories</h2><ul>
 <li><a href="/news/2024/01/02/ferry-timetable">Ferry timetable changes from next month</a></li>
 <li><a href="/news/2024/01/03/parking-fees">Council reviews parking fees in the centre</a></li>
 <li><a href="/news/2024/01/04/market-hall">Market hall to stay open later on Fridays</a></li>
</ul></aside>
<div class="newsletter"><h3>Get the morning briefing</h3><p>Sign up for our free daily
 newsletter and never miss a story.</p><input type="email" placeholder="Your email"></div>
<div class="ad ad-mpu" data-ad-slot="mpu">Advertisement</div>
"""

_FOOTER = """
<footer class="site-footer"><p>&copy; 2024 {outlet}. All rights reserved.</p>
 <ul><li><a href="/about">About us</a></li><li><a href="/contact">Contact</a></li>
 <li><a href="/privacy">Privacy policy</a></li><li><a href="/terms">Terms of use</a></li></ul>
</footer>
<script src="/static/app.js"></script>
<script>document.querySelectorAll('.ad').forEach(function(a){a.dataset.loaded='1';});</script>
"""


def _comments(story: Story) -> str:
    items = "".join(
        f'<li class="comment"><span class="comment-author">Reader {n}</span>'
        f"<p>{_esc(text)}</p></li>"
        for n, text in enumerate(story.comments, 1)
    )
    return (
        f'<section id="comments" class="comments"><h2>{len(story.comments)} comments</h2>'
        f'<ol class="comment-list">{items}</ol></section>'
    )


def _byline(story: Story) -> str:
    when = f'<time datetime="{story.published.isoformat()}">{story.published:%d %B %Y}</time>'
    who = f'By <a rel="author" href="/authors/x">{_esc(story.author)}</a>' if story.author else ""
    return f'<p class="byline">{who} {when}</p>'


def _paragraphs(story: Story) -> str:
    out = []
    for n, text in enumerate(story.paragraphs):
        out.append(f"<p>{_esc(text)}</p>")
        if n == 1:
            out.append('<div class="ad ad-inline" data-ad-slot="inline">Advertisement</div>')
            out.append(
                '<figure><img src="/img/photo.jpg" alt=""><figcaption>Photo: Staff '
                "photographer</figcaption></figure>"
            )
    return "\n".join(out)


def _blog(story: Story) -> str:
    return (
        f'<div class="wrap">{_NAV}<div id="content" class="site-content">'
        f'<article class="post type-post hentry"><header class="entry-header">'
        f'<span class="cat-links"><a href="/{story.section.lower()}/">{_esc(story.section)}'
        f'</a></span><h1 class="entry-title">{_esc(story.title)}</h1>{_byline(story)}</header>'
        f'<div class="entry-content">{_paragraphs(story)}</div></article>'
        f"{_AFTER}{_comments(story)}</div>{_FOOTER}</div>"
    )


def _outlet(story: Story) -> str:
    return (
        f'{_NAV}<main id="main-content" data-component="article-page">'
        f'<div data-component="headline-block"><h1 id="main-heading">{_esc(story.title)}'
        f"</h1></div>"
        f'<div data-component="byline-block">{_byline(story)}</div>'
        f'<div data-component="text-block" class="story-body">{_paragraphs(story)}</div>'
        f"{_AFTER}</main>{_comments(story)}{_FOOTER}"
    )


def _wire(story: Story) -> str:
    return (
        f'<div class="page">{_NAV}<div class="story">'
        f"<h1>{_esc(story.title)}</h1>{_byline(story)}"
        f'<div class="article-body">{_paragraphs(story)}</div></div>{_AFTER}</div>{_FOOTER}'
    )


_LAYOUTS = {"blog": _blog, "outlet": _outlet, "wire": _wire}


def article_page(story: Story, url: str) -> str:
    """The full HTML page of ``story`` as served at ``url``."""
    outlet = _esc(story.outlet or "Local News")
    body = _LAYOUTS[story.layout](story).replace("{outlet}", outlet)
    return f'<!DOCTYPE html>\n<html lang="en">\n{_head(story, url)}\n<body>{body}</body>\n</html>\n'


# --------------------------------------------------------------------------- feeds


def rss2(title: str, site: str, items: list[tuple[Story, str]]) -> str:
    """An RSS 2.0 feed of ``items`` (story, absolute link)."""
    entries = "".join(
        f"<item><title>{_esc(s.title)}</title><link>{_esc(link)}</link>"
        f"<guid isPermaLink='true'>{_esc(link)}</guid>"
        f"<pubDate>{format_datetime(s.published)}</pubDate>"
        f"<description>{_esc(s.paragraphs[0])}</description></item>"
        for s, link in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>{_esc(title)}</title><link>{_esc(site)}</link>"
        f"<description>Latest news</description>{entries}</channel></rss>\n"
    )


def atom(title: str, site: str, items: list[tuple[Story, str]]) -> str:
    """An Atom 1.0 feed of ``items``."""
    entries = "".join(
        f"<entry><title>{_esc(s.title)}</title><link rel='alternate' href='{_esc(link)}'/>"
        f"<id>{_esc(link)}</id><updated>{s.published.isoformat()}</updated>"
        f"<published>{s.published.isoformat()}</published>"
        f"<summary>{_esc(s.paragraphs[0])}</summary></entry>"
        for s, link in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{_esc(title)}</title><link href='{_esc(site)}'/><id>{_esc(site)}</id>"
        f"<updated>2024-03-03T12:00:00Z</updated>{entries}</feed>\n"
    )


def rss1(title: str, site: str, items: list[tuple[Story, str]]) -> str:
    """An RSS 1.0 (RDF) feed of ``items``, with Dublin Core dates."""
    seq = "".join(f"<rdf:li rdf:resource='{_esc(link)}'/>" for _, link in items)
    entries = "".join(
        f"<item rdf:about='{_esc(link)}'><title>{_esc(s.title)}</title>"
        f"<link>{_esc(link)}</link><dc:date>{s.published.isoformat()}</dc:date></item>"
        for s, link in items
    )
    return (
        '<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        ' xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<channel rdf:about='{_esc(site)}'><title>{_esc(title)}</title><link>{_esc(site)}"
        f"</link><description>News</description><items><rdf:Seq>{seq}</rdf:Seq></items>"
        f"</channel>{entries}</rdf:RDF>\n"
    )


def rss091(title: str, site: str, items: list[tuple[Story, str]]) -> str:
    """An RSS 0.91 feed (no dates: the pages' own dates must be used)."""
    entries = "".join(
        f"<item><title>{_esc(s.title)}</title><link>{_esc(link)}</link></item>" for s, link in items
    )
    return (
        '<?xml version="1.0"?>\n<rss version="0.91"><channel>'
        f"<title>{_esc(title)}</title><link>{_esc(site)}</link><description>News</description>"
        f"<language>en</language>{entries}</channel></rss>\n"
    )


# --------------------------------------------------------------------------- stories

UTC = dt.UTC

BRIDGE = Story(
    slug="harbour-bridge-reopens",
    title="Harbour Bridge reopens after three months of repairs",
    paragraphs=(
        "The Harbour Bridge reopened to traffic on Monday morning after three months of "
        "repairs that closed the city's busiest crossing.",
        "Engineers replaced 40 steel cables and resurfaced the whole deck, the transport "
        "department said in a statement.",
        "The repairs cost 12 million euros, less than the 15 million the council had set "
        "aside, according to the city treasurer Anna Berg.",
        "Commuters had faced detours of up to forty minutes while the bridge was closed, and "
        "ferry operators added extra sailings during the rush hour.",
    ),
    published=dt.datetime(2024, 3, 4, 7, 30, tzinfo=UTC),
    layout="blog",
)

FESTIVAL = Story(
    slug="festival-record-tickets",
    title="Summer festival sells a record 80,000 tickets",
    paragraphs=(
        "The summer music festival sold a record 80,000 tickets this year, its organisers "
        "announced on Friday.",
        "Organisers added a fourth stage on the old airfield to make room for the larger "
        "crowds, and the headline act will be the Northern Lights Orchestra.",
        "Local hotels reported full bookings for the festival weekend, and the rail operator "
        "said it would run night trains back to the city centre.",
    ),
    published=dt.datetime(2024, 3, 1, 16, 0, tzinfo=UTC),
    outlet="City Culture Daily",
    author="Tom Reed",
    layout="outlet",
    section="Culture",
)

COUNCIL = Story(
    slug="council-cycle-lanes",
    title="Council votes to extend cycle lanes",
    paragraphs=(
        "The city council voted 7 to 2 on Tuesday to extend the cycle lane network by "
        "twenty kilometres over the next two years.",
        "Construction of the first new lanes along the river embankment starts in the spring, "
        "the deputy mayor Lena Fischer said after the vote.",
        "Opponents on the council argued that the plan would remove more than 300 parking "
        "spaces from the old town without consulting shop owners.",
    ),
    published=dt.datetime(2024, 2, 27, 18, 45, tzinfo=UTC),
    outlet=None,  # no site name: the feed's title names the outlet
    author=None,
    layout="wire",
    section="Politics",
)


def filler_story(n: int) -> Story:
    """A distinct, plausible article for bulk tests and the benchmark."""
    day = dt.datetime(2024, 1, 1, 8, 0, tzinfo=UTC) + dt.timedelta(hours=7 * n)
    place = ("North", "South", "East", "West", "Harbour", "Old Town", "Riverside")[n % 7]
    topic = ("library", "school", "clinic", "market", "park", "pool", "depot")[n % 7]
    return Story(
        slug=f"story-{n:05d}",
        title=f"{place} {topic} plan number {n} gets a green light",
        paragraphs=(
            f"Planners approved proposal {n} for a new {topic} in the {place} district on "
            f"{day:%A}, after a consultation that drew {100 + n} responses from residents.",
            f"The project will cost {2 + n % 9} million euros and is due to open within "
            f"{1 + n % 4} years, the planning office said in a statement to reporters.",
            f"Residents of the {place} district had campaigned for a {topic} for more than a "
            f"decade, and local groups welcomed the decision as long overdue for the area.",
        ),
        published=day,
        layout=("blog", "outlet", "wire")[n % 3],
    )
