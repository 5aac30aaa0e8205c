// Opens a page in Debian's headless Chromium through playwright-core and reports what a user
// would see: figures that loaded, tables, and console errors.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** What the report page contains, as the browser rendered it. */
export interface PageFindings {
  title: string;
  /** Loaded <img> figures: natural size > 0 (a broken data: URI has 0). */
  figures: Array<{ id: string; naturalWidth: number; naturalHeight: number }>;
  tables: Array<{ caption: string; rows: number }>;
  consoleErrors: string[];
}

/** Loads a local HTML file in a fresh headless Chromium profile and inspects it. */
export async function inspectReportPage(htmlFile: string): Promise<PageFindings> {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'siked-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(String(error)));
    page.on('requestfailed', (request) => consoleErrors.push(`request failed: ${request.url()}`));
    await page.goto(pathToFileURL(htmlFile).href, { waitUntil: 'load' });
    const findings = await page.evaluate(() => ({
      title: document.title,
      figures: Array.from(document.querySelectorAll('figure')).map((figure) => {
        const image = figure.querySelector('img');
        return {
          id: figure.id,
          naturalWidth: image ? image.naturalWidth : 0,
          naturalHeight: image ? image.naturalHeight : 0,
        };
      }),
      tables: Array.from(document.querySelectorAll('table')).map((table) => ({
        caption: table.querySelector('caption')?.textContent ?? '',
        rows: table.querySelectorAll('tbody tr').length,
      })),
    }));
    return { ...findings, consoleErrors };
  } finally {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}
