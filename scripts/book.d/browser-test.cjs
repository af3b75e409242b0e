// The course website in a real browser: run by scripts/test-book, which
// installs Chromium and playwright-core, builds the site and serves it.
//
//   node browser-test.cjs URL BOOK_DIR SRC_DIR NOTES_DIR SHOTS_DIR
//
// URL serves BOOK_DIR (target/book); SRC_DIR is target/book-src, whose
// SUMMARY.md files give every page of each book in course order (made from
// notes/README.md: nothing here lists the pages). Every check that fails is
// printed with what was expected and what was seen; the exit status is 1 if
// any failed.
'use strict';

const fs = require('fs');
const path = require('path');
const {chromium} = require('playwright-core');

const [url, bookDir, srcDir, notesDir, shotsDir] = process.argv.slice(2);
const base = url.replace(/\/?$/, '/');
const LANGS = ['zh', 'en'];
const OTHER = {zh: 'en', en: 'zh'};
// What the issue asks search to find, and where it is taught (by grep).
const SEARCHES = {
    zh: [['粘包', '05-'], ['缓冲区', '08-'], ['三次握手', '01-']],
    en: [['TIME_WAIT', '08-'], ['backpressure', '04-']],
};
const TIMEOUT = 20000;
const started = Date.now();
const say = line => console.log(`${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s  ${line}`);

let passed = 0;
const failures = [];
// Every request any page made to anything but 127.0.0.1 (refused, never sent).
const leaving = [];
function check(ok, what, detail) {
    if (ok) {
        passed++;
    } else {
        failures.push(detail ? `${what}: ${detail}` : what);
        console.log(`FAIL ${what}${detail ? ': ' + detail : ''}`);
    }
    return ok;
}

/** The pages of a book in course order, from its generated SUMMARY.md. */
function bookPages(lang) {
    const summary = fs.readFileSync(path.join(srcDir, lang, 'src', 'SUMMARY.md'), 'utf8');
    return Array.from(summary.matchAll(/\]\(([^)]+)\.md\)/g), m => m[1] + '.html');
}

// BOOK_TEST_ONLY=REGEX checks only the pages whose names match (while
// working on one page); the checks of the whole site still run.
const only = process.env.BOOK_TEST_ONLY ? new RegExp(process.env.BOOK_TEST_ONLY) : null;
const chosen = pages => (only ? pages.filter(p => only.test(p)) : pages);

/** The Mermaid diagrams in the Markdown a page was built from. */
function mermaidSources(lang, page) {
    const md = path.join(srcDir, lang, 'src', page.replace(/\.html$/, '.md'));
    return Array.from(fs.readFileSync(md, 'utf8').matchAll(/^\s*```mermaid\s*\n([\s\S]*?)^\s*```\s*$/gm), m => m[1]);
}

/** The languages of the fenced code blocks of a page's Markdown, in order. */
function fences(lang, page) {
    const md = path.join(srcDir, lang, 'src', page.replace(/\.html$/, '.md'));
    const out = [];
    let open = null;
    for (const line of fs.readFileSync(md, 'utf8').split('\n')) {
        const m = line.match(/^\s*(`{3,}|~{3,})\s*([^`\s]*)/);
        if (!m) {
            continue;
        }
        if (open === null) {
            open = m[1];
            out.push(m[2]);
        } else if (m[1][0] === open[0] && m[1].length >= open.length && line.trim() === m[1]) {
            open = null;
        }
    }
    return out;
}

function mermaidBlocks(lang, page) {
    return mermaidSources(lang, page).length;
}

/** A page that records console errors, failed requests and any request that
 * would leave 127.0.0.1 (those are refused, never sent). */
async function watchedPage(context) {
    const page = await context.newPage();
    page.problems = [];
    page.on('console', m => {
        if (m.type() === 'error') {
            page.problems.push(`console error: ${m.text()}`);
        }
    });
    page.on('pageerror', e => page.problems.push(`script error: ${e.message}`));
    page.on('requestfailed', r => {
        // The browser drops the icon's request when the test moves on to the
        // next page before it came: that is not the site's failure.
        const dropped = /\/favicon\.(png|svg)$/.test(r.url())
            && r.failure() && r.failure().errorText === 'net::ERR_ABORTED';
        if (!r.url().startsWith('data:') && !dropped) {
            page.problems.push(`request failed: ${r.url()} (${r.failure() && r.failure().errorText})`);
        }
    });
    page.on('response', r => {
        if (r.status() >= 400) {
            page.problems.push(`HTTP ${r.status()}: ${r.url()}`);
        }
    });
    return page;
}

async function newContext(browser, options) {
    const context = await browser.newContext(options);
    await context.route('**/*', route => {
        const u = new URL(route.request().url());
        const local = u.protocol === 'file:' || u.protocol === 'data:' || u.protocol === 'blob:'
            || u.hostname === '127.0.0.1';
        if (local) {
            return route.continue();
        }
        return route.abort('blockedbyclient');
    });
    context.on('request', r => {
        const u = new URL(r.url());
        if (!['file:', 'data:', 'blob:'].includes(u.protocol) && u.hostname !== '127.0.0.1') {
            leaving.push(`${r.url()} (from ${r.frame().url()})`);
        }
    });
    return context;
}

/** Waits until the page shows `want` rendered Mermaid diagrams; returns how
 * many it shows (and how many are Mermaid's error pictures). */
async function mermaidRendered(page, want, sources) {
    if (want > 0) {
        await page.waitForFunction(n => document.querySelectorAll('pre.mermaid svg').length >= n,
            want, {timeout: TIMEOUT}).catch(() => {});
    }
    const seen = await page.evaluate(() => {
        const pres = Array.from(document.querySelectorAll('pre.mermaid'));
        const bad = pres.map((p, i) => [p, i]).filter(([p]) => p.querySelector('svg[aria-roledescription="error"]'));
        return {
            svgs: document.querySelectorAll('pre.mermaid svg').length,
            errors: bad.length,
            bad: bad.map(([, i]) => i),
            which: '',
        };
    });
    // Mermaid's own words on each diagram it could not draw.
    for (const [k, i] of seen.bad.entries()) {
        const src = (sources || [])[i];
        const why = src === undefined ? 'source not found' : await page.evaluate(
            t => mermaid.parse(t).then(() => 'parses, yet was drawn as an error', e => String(e.message || e)), src);
        seen.which += `${k ? '; ' : ''}diagram ${i + 1}: ${why.replace(/\s+/g, ' ').slice(0, 300)}`;
    }
    return seen;
}

async function load(page, href) {
    page.problems.length = 0;
    await page.goto(href, {waitUntil: 'load', timeout: TIMEOUT});
}

/** Every page: loads cleanly, diagrams drawn, time line on top, copy buttons,
 * prev/next in course order. */
async function checkPages(browser, lang, pages) {
    const context = await newContext(browser, {viewport: {width: 1280, height: 900}});
    const page = await watchedPage(context);
    for (const [i, name] of pages.entries()) {
        if (!chosen([name]).length) {
            continue;
        }
        const where = `${lang}/${name}`;
        await load(page, base + where);
        const sources = mermaidSources(lang, name);
        const want = sources.length;
        const seen = await mermaidRendered(page, want, sources);
        check(seen.svgs === want && seen.errors === 0, `${where}: Mermaid diagrams`,
            `${want} in the Markdown, ${seen.svgs} drawn, ${seen.errors} of them errors ${seen.which}`);
        const facts = await page.evaluate(() => {
            const main = document.querySelector('main');
            const first = main.querySelector('h1 + blockquote');
            const pres = Array.from(main.querySelectorAll('pre:not(.mermaid)'))
                .filter(p => !p.closest('pre.mermaid'));
            return {
                h1: (main.querySelector('h1') || {}).textContent || '',
                timeLine: first ? first.textContent.trim() : null,
                timeTop: first ? first.getBoundingClientRect().top : null,
                code: pres.length,
                copy: pres.filter(p => p.querySelector('button.clip-button')).length,
                prev: (document.querySelector('a.nav-chapters.previous') || {}).href || null,
                next: (document.querySelector('a.nav-chapters.next') || {}).href || null,
            };
        });
        check(facts.h1 !== '', `${where}: has a title`);
        if (/^\d\d-/.test(name)) {
            const label = lang === 'zh' ? '时间' : 'Time';
            check(facts.timeLine !== null && facts.timeLine.startsWith(label)
                && facts.timeTop < 900, `${where}: time and seed line at the top`,
                `first quote under the title: ${JSON.stringify(facts.timeLine)}`);
        }
        const blocks = fences(lang, name).filter(l => l !== 'mermaid').length;
        check(facts.code === blocks, `${where}: code blocks as in the Markdown`,
            `${blocks} in the Markdown, ${facts.code} on the page`);
        check(facts.copy === facts.code, `${where}: copy buttons`,
            `${facts.code} code blocks, ${facts.copy} with a copy button`);
        const want_prev = i > 0 ? base + lang + '/' + pages[i - 1] : null;
        const want_next = i + 1 < pages.length ? base + lang + '/' + pages[i + 1] : null;
        check(facts.prev === want_prev && facts.next === want_next, `${where}: previous and next`,
            `expected ${want_prev} and ${want_next}, got ${facts.prev} and ${facts.next}`);
        check(page.problems.length === 0, `${where}: loads cleanly`, page.problems.join('; '));
    }
    // The whole book on one page, to print.
    await load(page, base + lang + '/print.html');
    const sources = pages.flatMap(p => mermaidSources(lang, p));
    const want = sources.length;
    const seen = await mermaidRendered(page, want, sources);
    check(seen.svgs === want && seen.errors === 0, `${lang}/print.html: Mermaid diagrams`,
        `${want} in the Markdown, ${seen.svgs} drawn, ${seen.errors} errors ${seen.which}`);
    const titles = await page.$$eval('main h1', hs => hs.length);
    check(titles >= pages.length, `${lang}/print.html: every page`,
        `${pages.length} pages, ${titles} titles`);
    check(page.problems.length === 0, `${lang}/print.html: loads cleanly`, page.problems.join('; '));
    await context.close();
}

/** The language switch, clicked, lands on the same page in the other
 * language; from a section, on the same section there. */
async function checkSwitch(browser, lang, pages, otherPages) {
    const context = await newContext(browser, {viewport: {width: 1280, height: 900}});
    // Diagrams are checked above; drawing them again on every switch would
    // only make this slow.
    await context.route(/\/mermaid\.min\.js$/, route => route.fulfill({
        contentType: 'text/javascript', body: 'window.mermaid = {initialize() {}};'}));
    const page = await watchedPage(context);
    const other = OTHER[lang];
    for (const name of chosen(pages)) {
        const where = `${lang}/${name}`;
        await load(page, base + where);
        const ids = await page.$$eval('main :is(h1,h2,h3,h4,h5,h6)[id]', hs => hs.map(h => h.id));
        // From the top of the page.
        await Promise.all([page.waitForURL(u => !u.pathname.endsWith('/' + where), {timeout: TIMEOUT}),
            page.click('#course-lang-switch')]);
        const landed = new URL(page.url());
        const expected = otherPages.includes(name) ? `/${other}/${name}` : `/${other}/index.html`;
        check(decodeURIComponent(landed.pathname).endsWith(expected), `${where}: language switch`,
            `expected ${expected}, landed on ${landed.pathname}${landed.hash}`);
        if (!otherPages.includes(name) || ids.length < 3) {
            continue;
        }
        // From a section in the middle: the same section, by position.
        const n = Math.floor(ids.length / 2);
        await load(page, base + where + '#' + encodeURIComponent(ids[n]));
        await page.waitForTimeout(50);
        await Promise.all([page.waitForURL(u => u.pathname.endsWith('/' + other + '/' + name),
            {timeout: TIMEOUT}), page.click('#course-lang-switch')]);
        const theirs = await page.$$eval('main :is(h1,h2,h3,h4,h5,h6)[id]', hs => hs.map(h => h.id));
        const hash = decodeURIComponent(new URL(page.url()).hash.slice(1));
        check(theirs.length === ids.length && hash === theirs[n], `${where}#… : language switch keeps the section`,
            theirs.length === ids.length
                ? `heading ${n + 1} of ${ids.length} (${ids[n]}): expected #${theirs[n]}, landed on #${hash}`
                : `the pages have ${ids.length} and ${theirs.length} headings (cargo xtask check says where they differ)`);
        check(page.problems.length === 0, `${where}: switch loads cleanly`, page.problems.join('; '));
    }
    await context.close();
}

/** Types `term` into mdBook's search box and returns the result links. */
async function search(page, term) {
    if (!(await page.isVisible('#mdbook-searchbar'))) {
        await page.click('#mdbook-search-toggle');
    }
    // Straight from one term to the next: mdBook does not search again for
    // the term it searched last, even after the box was emptied in between.
    await page.fill('#mdbook-searchbar', term);
    await page.waitForFunction(() => {
        const h = document.getElementById('mdbook-searchresults-header');
        return h && h.innerText.trim() !== '';
    }, null, {timeout: TIMEOUT}).catch(() => {});
    return page.$$eval('#mdbook-searchresults li a', as => as.map(a => a.getAttribute('href')));
}

async function checkSearch(browser, lang, shot) {
    const context = await newContext(browser, {viewport: {width: 1280, height: 900}});
    const page = await watchedPage(context);
    await load(page, base + lang + '/index.html');
    for (const [term, lesson] of SEARCHES[lang]) {
        const links = await search(page, term);
        const rank = links.findIndex(h => h.split('/').pop().startsWith(lesson));
        check(rank >= 0, `${lang} search ${term}`,
            `expected lesson ${lesson}* among the results, got ${links.length}: ${links.slice(0, 5).join(' ')}`);
        console.log(`  search ${lang} ${term}: ${links.length} results, lesson ${lesson} at rank ${rank + 1}`);
        // Each teaser shows the word found, marked.
        const marked = await page.$$eval('#mdbook-searchresults li .teaser',
            (ts, t) => ts.filter(x => Array.from(x.querySelectorAll('em')).some(e => e.textContent.includes(t))).length,
            term);
        check(marked > 0, `${lang} search ${term}: teasers show it`,
            `${marked} of ${links.length} teasers mark ${term}`);
        if (term === SEARCHES[lang][0][0]) {
            await page.screenshot({path: path.join(shotsDir, shot)});
        }
    }
    // A search in the address (a link someone shared) finds the same.
    {
        const [term, lesson] = SEARCHES[lang][0];
        await load(page, base + lang + '/index.html?search=' + encodeURIComponent(term));
        await page.waitForSelector('#mdbook-searchresults li a', {timeout: TIMEOUT}).catch(() => {});
        const links = await page.$$eval('#mdbook-searchresults li a', as => as.map(a => a.getAttribute('href')));
        check(links.some(h => h.split('?')[0].split('/').pop().startsWith(lesson)),
            `${lang} index.html?search=${term}`, `got ${links.length} results: ${links.slice(0, 3).join(' ')}`);
    }
    // The first result opens its page.
    const [term, lesson] = SEARCHES[lang][0];
    await search(page, term);
    await Promise.all([page.waitForURL(u => u.pathname.split('/').pop().startsWith(lesson),
        {timeout: TIMEOUT}).catch(() => {}), page.click('#mdbook-searchresults li a')]);
    check(new URL(page.url()).pathname.split('/').pop().startsWith(lesson),
        `${lang} search ${term}: first result opens lesson ${lesson}`, page.url());
    check(page.problems.length === 0, `${lang} search: no errors`, page.problems.join('; '));
    await context.close();
}

/** At a phone's width nothing is wider than the screen, except inside
 * something that scrolls on its own (a code block, a table, a diagram). */
async function checkPhone(browser, lang, pages, shot, shotPage) {
    const context = await newContext(browser, {viewport: {width: 390, height: 844}, isMobile: true,
        hasTouch: true, deviceScaleFactor: 1});
    const page = await watchedPage(context);
    for (const name of chosen(pages.concat(['print.html']))) {
        const where = `${lang}/${name}`;
        await load(page, base + where);
        await mermaidRendered(page, name === 'print.html' ? 0 : mermaidBlocks(lang, name));
        const wide = await page.evaluate(() => {
            const width = document.documentElement.clientWidth;
            const scrolls = el => {
                for (let e = el.parentElement; e && e !== document.body; e = e.parentElement) {
                    const o = getComputedStyle(e).overflowX;
                    if ((o === 'auto' || o === 'scroll') && e.getBoundingClientRect().right <= width + 1) {
                        return true;
                    }
                }
                return false;
            };
            const out = [];
            for (const el of document.querySelectorAll('main *, #mdbook-menu-bar *')) {
                const r = el.getBoundingClientRect();
                if (r.width > 0 && r.right > width + 1 && !scrolls(el)) {
                    out.push(`<${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}> ends at ${Math.round(r.right)}px: `
                        + JSON.stringify((el.textContent || '').trim().slice(0, 60)));
                }
            }
            const page = document.scrollingElement.scrollWidth;
            if (page > width + 1) {
                out.unshift(`the page is ${page}px wide`);
            }
            return {width, out};
        });
        check(wide.out.length === 0, `${where} at 390px: nothing wider than the screen`,
            wide.out.slice(0, 3).join('; ') + (wide.out.length > 3 ? ` (and ${wide.out.length - 3} more)` : ''));
        if (name === shotPage) {
            await page.screenshot({path: path.join(shotsDir, shot)});
        }
    }
    await context.close();
}

/** The same site from file://, without a server: a lesson with a diagram
 * draws it, search works, nothing fails. */
async function checkFile(browser, lang, name) {
    const context = await newContext(browser, {viewport: {width: 1280, height: 900}});
    const page = await watchedPage(context);
    const where = `file://${path.resolve(bookDir)}/${lang}/${name}`;
    await load(page, where);
    const sources = mermaidSources(lang, name);
    const want = sources.length;
    const seen = await mermaidRendered(page, want, sources);
    check(seen.svgs === want && seen.errors === 0, `file:// ${lang}/${name}: Mermaid diagrams`,
        `${want} in the Markdown, ${seen.svgs} drawn`);
    const [term, lesson] = SEARCHES[lang][0];
    const links = await search(page, term);
    check(links.some(h => h.split('/').pop().startsWith(lesson)), `file:// ${lang} search ${term}`,
        `got ${links.join(' ')}`);
    check(page.problems.length === 0, `file:// ${lang}/${name}: loads cleanly`, page.problems.join('; '));
    await context.close();
}

/** The start page offers both and remembers the last choice. */
async function checkStart(browser) {
    const context = await newContext(browser, {viewport: {width: 1280, height: 900}});
    const page = await watchedPage(context);
    await load(page, base + 'index.html');
    const offers = await page.$$eval('a[href$="/index.html"]', as => as.map(a => a.getAttribute('href')));
    check(offers.includes('zh/index.html') && offers.includes('en/index.html'),
        'index.html offers 中文 and English', offers.join(' '));
    await Promise.all([page.waitForURL(/\/en\/index\.html$/, {timeout: TIMEOUT}), page.click('#course-en')]);
    await load(page, base + 'index.html');
    await page.waitForURL(/\/en\/index\.html$/, {timeout: TIMEOUT}).catch(() => {});
    check(page.url().endsWith('/en/index.html'), 'index.html remembers English', page.url());
    await load(page, base + 'index.html#choose');
    await Promise.all([page.waitForURL(/\/zh\/index\.html$/, {timeout: TIMEOUT}), page.click('#course-zh')]);
    await load(page, base + 'index.html');
    await page.waitForURL(/\/zh\/index\.html$/, {timeout: TIMEOUT}).catch(() => {});
    check(page.url().endsWith('/zh/index.html'), 'index.html remembers 中文', page.url());
    check(page.problems.length === 0, 'index.html: loads cleanly', page.problems.join('; '));
    await context.close();
}

async function main() {
    fs.mkdirSync(shotsDir, {recursive: true});
    const pages = {};
    for (const lang of LANGS) {
        pages[lang] = bookPages(lang);
        // Every page of notes/<lang> is a page of the book.
        for (const md of fs.readdirSync(path.join(notesDir, lang)).filter(f => f.endsWith('.md'))) {
            check(pages[lang].includes(md.replace(/\.md$/, '.html')), `${lang}: notes/${lang}/${md} is in the book`);
        }
        console.log(`${lang}: ${pages[lang].length} pages`);
    }
    const browser = await chromium.launch({
        executablePath: '/usr/bin/chromium',
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    try {
        await checkStart(browser);
        for (const lang of LANGS) {
            say(`${lang}: every page`);
            await checkPages(browser, lang, pages[lang]);
            say(`${lang}: language switch`);
            await checkSwitch(browser, lang, pages[lang], pages[OTHER[lang]]);
            say(`${lang}: search`);
            await checkSearch(browser, lang, `${lang}-search.png`);
            say(`${lang}: 390 px`);
            const lesson = pages[lang].find(p => mermaidBlocks(lang, p) > 0 && /^\d\d-/.test(p)) || pages[lang][0];
            const phonePage = pages[lang].find(p => p.startsWith('05-')) || lesson;
            await checkPhone(browser, lang, pages[lang], `${lang}-phone.png`, phonePage);
            say(`${lang}: file://`);
            await checkFile(browser, lang, phonePage);
        }
    } finally {
        await browser.close();
    }
    check(leaving.length === 0, 'no request leaves 127.0.0.1', leaving.slice(0, 5).join('; '));
    console.log(`screenshots: ${fs.readdirSync(shotsDir).map(f => path.join(shotsDir, f)).join(' ')}`);
    if (failures.length) {
        console.log(`\n${failures.length} check(s) failed:`);
        for (const f of failures) {
            console.log(`  ${f}`);
        }
    }
    console.log(`browser checks: ${passed} passed, ${failures.length} failed`);
    process.exit(failures.length ? 1 : 0);
}

main().catch(e => {
    console.error(`browser test: ${e.stack || e}`);
    process.exit(1);
});
