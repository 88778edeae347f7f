/// The Mustache templates of the report. `{{name}}` escapes for HTML, so everything a scenario
/// supplies (names, descriptions, ids, messages) reaches the page as text; no template uses `{{{`.
enum Templates {
    static let style = """
        body { font: 15px/1.45 system-ui, -apple-system, Segoe UI, Roboto, sans-serif; color: #1a1a1a;
               max-width: 1000px; margin: 24px auto; padding: 0 16px; }
        h1 { font-size: 26px; margin-bottom: 4px; } h2 { font-size: 20px; margin-top: 32px;
               border-bottom: 1px solid #ddd; padding-bottom: 4px; } h3 { font-size: 16px; margin-bottom: 6px; }
        .meta { color: #555; margin: 0 0 16px; }
        .status { display: inline-block; padding: 2px 10px; border-radius: 4px; font-weight: 600; color: #fff; }
        .passed, .updated { background: #1b7f3b; } .failed { background: #b3261e; } .invalid { background: #8a5a00; }
        table { border-collapse: collapse; margin: 8px 0 16px; width: 100%; }
        th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eee; vertical-align: top; }
        th { background: #f6f6f6; font-weight: 600; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        .how { color: #444; font-size: 13px; }
        .subscription { font-size: 12px; color: #444; background: #eef2f7; border-radius: 3px; padding: 0 5px; }
        .invoice { border: 1px solid #ccc; border-radius: 6px; padding: 8px 14px; margin: 16px 0; break-inside: avoid; }
        .invoice h3 { margin-top: 4px; } .totals td { border: none; } .grand td { font-weight: 700; border-top: 2px solid #333; }
        .diff { border: 2px solid #b3261e; border-radius: 6px; padding: 4px 14px; background: #fff6f5; }
        .moved { color: #b3261e; font-weight: 600; }
        .note { background: #fff8e1; border-left: 4px solid #e6a700; padding: 6px 10px; }
        svg { max-width: 100%; height: auto; } svg text { font: 12px system-ui, sans-serif; fill: #222; }
        @media print { body { max-width: none; } a { color: inherit; text-decoration: none; } }
        """

    /// The document's head; `pageTitle` comes from the page's model.
    static let head = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{pageTitle}}</title>
        <style>\(style)</style>
        </head>
        """

    static let lineChart = """
        <figure class="chart">
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 860 {{height}}" width="860" role="img" aria-label="{{title}}">
        <title>{{title}}</title>
        {{#yTicks}}<line x1="{{left}}" x2="{{right}}" y1="{{at}}" y2="{{at}}" stroke="#e4e4e4"/>
        <text x="{{left}}" dx="-6" y="{{at}}" dy="4" text-anchor="end">{{label}}</text>
        {{/yTicks}}
        {{#xTicks}}<line x1="{{at}}" x2="{{at}}" y1="{{bottom}}" y2="{{tickBottom}}" stroke="#888"/>
        <text x="{{at}}" y="{{bottom}}" dy="18" text-anchor="middle">{{label}}</text>
        {{/xTicks}}
        <line x1="{{left}}" x2="{{right}}" y1="{{bottom}}" y2="{{bottom}}" stroke="#333"/>
        <line x1="{{left}}" x2="{{left}}" y1="{{top}}" y2="{{bottom}}" stroke="#333"/>
        <text x="12" y="{{top}}" dy="-6" class="axis-label">{{yLabel}}</text>
        <text x="{{right}}" y="{{bottom}}" dy="38" text-anchor="end" class="axis-label">{{xLabel}}</text>
        {{#series}}<polyline fill="none" stroke="{{colour}}" stroke-width="2" points="{{points}}"/>
        {{#dots}}<circle cx="{{x}}" cy="{{y}}" r="2.5" fill="{{colour}}"><title>{{label}}</title></circle>{{/dots}}
        <rect x="{{legendX}}" y="{{legendY}}" width="12" height="12" fill="{{colour}}"/>
        <text x="{{legendX}}" dx="18" y="{{legendY}}" dy="10" class="legend">{{name}}</text>
        <text x="{{legendX}}" dx="18" y="{{legendY}}" dy="25" class="legend-total">{{total}}</text>
        {{/series}}
        </svg>
        <figcaption>{{title}}</figcaption>
        </figure>
        """

    static let barChart = """
        <figure class="chart">
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 760 {{height}}" width="760" role="img" aria-label="{{title}}">
        <title>{{title}}</title>
        {{#bars}}<text x="{{barsLeft}}" dx="-8" y="{{textY}}" text-anchor="end" class="bar-label">{{label}}</text>
        <rect x="{{barsLeft}}" y="{{y}}" width="{{width}}" height="22" fill="{{colour}}"/>
        <text x="{{countX}}" y="{{textY}}" class="bar-count">{{count}}</text>
        {{/bars}}
        <line x1="{{barsLeft}}" x2="{{barsLeft}}" y1="4" y2="{{axisBottom}}" stroke="#333"/>
        </svg>
        <figcaption>{{title}}</figcaption>
        </figure>
        """

    static let scenarioPage = """
        {{> head}}
        <body>
        <p><a href="index.html">All scenarios</a></p>
        <h1 id="scenario">{{name}} <span class="status {{status}}">{{statusText}}</span></h1>
        <p class="meta">{{description}}</p>
        <p class="meta">{{file}} · seed {{seed}} · {{periods}} · {{currency}} · {{events}} events in · {{seconds}} s</p>
        {{#hasDifferences}}
        <section class="diff" id="money-diff">
        <h2>What differs from the golden files</h2>
        {{#hasMoneyRows}}
        <table>
        <thead><tr><th>Customer</th><th>Period</th><th class="num">Expected total</th><th class="num">Actual total</th><th>Lines that moved</th></tr></thead>
        <tbody>
        {{#moneyRows}}<tr><td>{{customer}}</td><td>{{period}}</td><td class="num">{{expected}}</td><td class="num moved">{{actual}}</td>
        <td>{{#lines}}<div>{{.}}</div>{{/lines}}</td></tr>
        {{/moneyRows}}
        </tbody>
        </table>
        {{/hasMoneyRows}}
        {{#messages}}<div class="how">{{.}}</div>{{/messages}}
        </section>
        {{/hasDifferences}}

        <h2 id="outcomes">What happened to the events</h2>
        {{#hasOutsideNote}}<p class="note">{{outsideNote}}</p>{{/hasOutsideNote}}
        {{#outcomeChart}}{{> barChart}}{{/outcomeChart}}
        <table class="outcomes">
        <thead><tr><th>Outcome</th><th>Reason</th><th class="num">Events</th></tr></thead>
        <tbody>
        {{#outcomeRows}}<tr><td>{{outcome}}</td><td>{{reason}}</td><td class="num">{{count}}</td></tr>
        {{/outcomeRows}}
        </tbody>
        </table>

        <h2 id="usage">Usage per day</h2>
        {{#usageCharts}}
        {{#chart}}{{> lineChart}}{{/chart}}
        <table>
        <thead><tr><th>Customer</th><th class="num">Accepted {{unit}}</th><th class="num">{{billedHeading}}</th></tr></thead>
        <tbody>
        {{#rows}}<tr><td>{{customer}}</td><td class="num">{{accepted}}</td><td class="num">{{billed}}</td></tr>
        {{/rows}}
        </tbody>
        </table>
        {{/usageCharts}}
        {{^usageCharts}}<p>No accepted usage.</p>{{/usageCharts}}

        <h2 id="invoices">Invoices</h2>
        <p class="meta">{{invoiceCount}} invoices, {{totalBilled}} in all.{{#invoicesLeftOut}} The first {{shownInvoices}} are below; the rest are in {{goldenPath}}.{{/invoicesLeftOut}}</p>
        {{#invoices}}
        <article class="invoice" id="{{number}}">
        <h3>{{number}} · {{customer}} · {{period}}</h3>
        <p class="meta">{{destination}}{{#issued}} · {{issued}}{{/issued}}</p>
        <table>
        <thead><tr><th>Line</th><th class="num">Quantity</th><th>How it was priced</th><th class="num">Amount</th></tr></thead>
        <tbody>
        {{#lines}}<tr><td>{{name}}{{#subscription}} <span class="subscription">{{subscription}}</span>{{/subscription}}</td><td class="num">{{quantity}}</td><td class="how">{{#how}}<div>{{.}}</div>{{/how}}</td><td class="num">{{amount}}</td></tr>
        {{/lines}}
        </tbody>
        <tbody class="totals">
        <tr><td colspan="3">Subtotal</td><td class="num">{{subtotal}}</td></tr>
        {{#discounts}}<tr><td colspan="3">Discount: {{label}}</td><td class="num">{{amount}}</td></tr>{{/discounts}}
        {{#taxes}}<tr><td colspan="3">Tax: {{label}}</td><td class="num">{{amount}}</td></tr>{{/taxes}}
        <tr class="grand"><td colspan="3">Total</td><td class="num invoice-total">{{total}}</td></tr>
        {{#credits}}<tr><td colspan="3">Paid from {{label}}</td><td class="num">{{amount}}</td></tr>{{/credits}}
        <tr class="grand"><td colspan="3">Amount due</td><td class="num amount-due">{{amountDue}}</td></tr>
        </tbody>
        </table>
        {{#notes}}<p class="how">{{.}}</p>{{/notes}}
        </article>
        {{/invoices}}
        </body>
        </html>

        """

    static let indexPage = """
        {{> head}}
        <body>
        <h1>Tally report</h1>
        <p class="meta">{{passed}} passed, {{failed}} failed</p>
        <table>
        <thead><tr><th>Scenario</th><th>Status</th><th class="num">Events</th><th class="num">Invoices</th><th class="num">Billed</th><th class="num">Seconds</th><th>Description</th></tr></thead>
        <tbody>
        {{#scenarios}}<tr><td><a href="{{page}}">{{name}}</a></td><td><span class="status {{status}}">{{statusText}}</span></td>
        <td class="num">{{events}}</td><td class="num">{{invoiceCount}}</td><td class="num">{{totalBilled}}</td><td class="num">{{seconds}}</td><td>{{description}}</td></tr>
        {{/scenarios}}
        </tbody>
        </table>
        </body>
        </html>

        """
}
