/**
 * `cost-guard estimate <calculator> [flags] [--json]`: the savings model's calculators from the command line.
 *
 * Offline and pure: no AWS access, no config file. Flags are checked against the same ranges the calculators
 * enforce; a bad or missing flag throws UsageError naming the flag (the CLI prints it and exits 2).
 */
import { parseArgs } from 'node:util';

import { DEFAULT_LIFECYCLE_RULES } from '../core/lifecycle/rules';

import { formatHourlyUsd as formatHourly, formatUsd } from '../core/money';
import { regionCodeProblem } from '../core/regions';
import {
  autoscalingSavings,
  compareInstanceTypes,
  createPricing,
  familyOf,
  gpuSavings,
  idleCost,
  NETWORK_STRATEGIES,
  type NetworkStrategy,
  type NumberRange,
  networkSavings,
  PRICE_CATALOG,
  type Pricing,
  projectBucketSavings,
  RANGES,
  reservationBreakEven,
  roi,
  SavingsInputError,
  SEED_PRICES,
  SOURCE_CHAPTER,
  storageTieringSavings,
  UnknownPriceError,
} from '../core/savings';
import { closestName } from '../core/suggest';
import { argsErrorMessage } from './args';
import { type CliIO, EXIT, UsageError } from './io';

// ---------------------------------------------------------------------------------------------------------------
// Instance types
// ---------------------------------------------------------------------------------------------------------------

/** The families of the known types, EC2 and SageMaker apart (an unknown size of a family lists that family's sizes). */
function knownFamilies(types: readonly string[]): string {
  const families = [...new Set([...types].sort(compareInstanceTypes).map(familyOf))];
  const ec2 = families.filter((f) => !f.startsWith('ml.'));
  const sagemaker = families.filter((f) => f.startsWith('ml.'));
  return [
    `EC2 families priced (every size): ${ec2.join(', ')}.`,
    ...(sagemaker.length > 0 ? [`SageMaker real-time inference: ${sagemaker.join(', ')}.`] : []),
  ].join('\n');
}

/** Why --instance-type has no price, and what to give instead: the family's known sizes, or where to find types. */
function unknownPriceMessage(instanceType: string, pricing: Pricing): string {
  const head = `--instance-type '${instanceType}' has no known price; give --hourly-usd`;
  const reason = pricing.unpricedReason(instanceType);
  if (reason) return `${head} (${reason})`;
  const family = familyOf(instanceType);
  const sizes = pricing
    .knownInstanceTypes()
    .filter((t) => familyOf(t) === family)
    .sort(compareInstanceTypes);
  if (sizes.length > 0) return `${head}, or a known ${family} size: ${sizes.join(', ')}`;
  return `${head}, or a known type (cost-guard estimate idle --help lists them)`;
}

// ---------------------------------------------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------------------------------------------

/** A unit price with enough digits to show sub-cent figures: $0.00099. */
function formatUnitPrice(value: number): string {
  return `$${Number(value.toPrecision(6)).toString()}`;
}

/** A fraction as a percentage with one decimal: 0.75143 -> 75.1%, 33.3636 -> 3,336.4%. */
export function formatPercent(fraction: number): string {
  return `${(fraction * 100).toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 })}%`;
}

const formatNumber = (value: number, digits = 2): string =>
  value.toLocaleString('en-US', { maximumFractionDigits: digits });

type Align = 'left' | 'right';

/** Renders rows as columns, left-aligning the first column and right-aligning the others unless told. */
export function renderTable(rows: readonly (readonly string[])[], align: readonly Align[] = []): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => {
          const side = align[i] ?? (i === 0 ? 'left' : 'right');
          return side === 'left' ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!);
        })
        .join('   ')
        .trimEnd(),
    )
    .map((line) => `  ${line}`)
    .join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// Flags
// ---------------------------------------------------------------------------------------------------------------

interface NumberFlag {
  readonly kind: 'number';
  readonly flag: string;
  /** The calculator input it feeds, to name the flag when the calculator rejects a value. */
  readonly param: string;
  readonly range: NumberRange;
  readonly required?: boolean;
  /** Shown in help. */
  readonly defaultText?: string;
  readonly help: string;
}

interface StringFlag {
  readonly kind: 'string';
  readonly flag: string;
  readonly param?: string;
  readonly required?: boolean;
  readonly defaultText?: string;
  readonly help: string;
}

interface BooleanFlag {
  readonly kind: 'boolean';
  readonly flag: string;
  readonly help: string;
}

type Flag = NumberFlag | StringFlag | BooleanFlag;

interface Output {
  /** The object printed with --json. */
  readonly json: Record<string, unknown>;
  /** Title line of the human output. */
  readonly title: string;
  /** Blocks of label/value rows (or wider tables), separated by a blank line. */
  readonly tables: readonly (readonly (readonly string[])[])[];
  readonly notes: readonly string[];
}

interface Flags {
  num(flag: string): number | undefined;
  str(flag: string): string | undefined;
  bool(flag: string): boolean;
}

interface Calculator {
  readonly name: string;
  readonly summary: string;
  readonly example: string;
  readonly flags: readonly Flag[];
  readonly details?: string;
  run(flags: Flags): Output;
}

const hint = (range: NumberRange, value: number): string =>
  range === RANGES.utilization || range === RANGES.fraction
    ? value > 1 && value <= 100
      ? ` (a fraction: ${value / 100} means ${value}%)`
      : ''
    : '';

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;

function parseNumber(spec: NumberFlag, raw: string): number {
  const text = raw.trim().replaceAll('_', '');
  const value = NUMBER.test(text) ? Number(text) : Number.NaN;
  if (!Number.isFinite(value) || !spec.range.test(value)) {
    throw new UsageError(`--${spec.flag} must be ${spec.range.text}; got '${raw}'${hint(spec.range, value)}`);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------------------
// The calculators
// ---------------------------------------------------------------------------------------------------------------

const calculators: readonly Calculator[] = [
  {
    name: 'gpu',
    summary: 'GPU savings: right-sizing to a target utilization, then spot on what remains',
    example: 'cost-guard estimate gpu --monthly-spend 200000 --current-utilization 0.3 --target-utilization 0.7',
    flags: [
      {
        kind: 'number',
        flag: 'monthly-spend',
        param: 'monthlySpend',
        range: RANGES.nonNegative,
        required: true,
        help: 'monthly GPU spend, $',
      },
      {
        kind: 'number',
        flag: 'current-utilization',
        param: 'currentUtilization',
        range: RANGES.utilization,
        required: true,
        help: 'current average GPU utilization, a fraction (0.3 = 30%)',
      },
      {
        kind: 'number',
        flag: 'target-utilization',
        param: 'targetUtilization',
        range: RANGES.utilization,
        required: true,
        help: 'utilization after right-sizing, a fraction',
      },
      {
        kind: 'number',
        flag: 'spot-eligible',
        param: 'spotEligibleShare',
        range: RANGES.fraction,
        defaultText: '0.6',
        help: 'share of the right-sized spend that can run on spot',
      },
      {
        kind: 'number',
        flag: 'spot-discount',
        param: 'spotDiscount',
        range: RANGES.fraction,
        defaultText: '0.7',
        help: 'spot discount off on-demand',
      },
    ],
    run(f) {
      const r = gpuSavings({
        monthlySpend: f.num('monthly-spend')!,
        currentUtilization: f.num('current-utilization')!,
        targetUtilization: f.num('target-utilization')!,
        spotEligibleShare: f.num('spot-eligible'),
        spotDiscount: f.num('spot-discount'),
      });
      return {
        json: { ...r },
        title: 'GPU savings: right-sizing first, then spot on what remains',
        tables: [
          [
            ['Monthly GPU spend', formatUsd(r.monthlySpend)],
            ['Utilization', `${formatPercent(r.currentUtilization)} -> ${formatPercent(r.targetUtilization)}`],
            ['Right-sizing savings', formatUsd(r.utilizationSavings)],
            ['Spend after right-sizing', formatUsd(r.spendAfterRightSizing)],
            [
              `Spot savings (${formatPercent(r.spotEligibleShare)} eligible, ${formatPercent(r.spotDiscount)} off)`,
              formatUsd(r.spotSavings),
            ],
            ['Total monthly savings', formatUsd(r.totalMonthlySavings)],
            ['Monthly spend after', formatUsd(r.monthlySpendAfter)],
            ['Annual savings', formatUsd(r.annualSavings)],
            ['Savings rate', formatPercent(r.savingsRate)],
          ],
        ],
        notes: [
          `Spot applies to what remains after right-sizing; ${SOURCE_CHAPTER} adds both levers on the full spend and can save more than is spent.`,
        ],
      };
    },
  },
  {
    name: 'network',
    summary: 'egress savings of data locality, compression and caching (composed on the bytes that remain)',
    example:
      'cost-guard estimate network --monthly-egress-gb 10000 --cost-per-gb 0.10 --strategies data_locality,compression',
    flags: [
      {
        kind: 'number',
        flag: 'monthly-egress-gb',
        param: 'monthlyEgressGb',
        range: RANGES.nonNegative,
        required: true,
        help: 'GB transferred a month',
      },
      {
        kind: 'number',
        flag: 'cost-per-gb',
        param: 'costPerGb',
        range: RANGES.nonNegative,
        defaultText: String(PRICE_CATALOG.egressPerGbUsd),
        help: '$/GB of the transfers (default: internet egress, us-east-1)',
      },
      {
        kind: 'string',
        flag: 'strategies',
        param: 'strategies',
        required: true,
        help: `comma-separated: ${NETWORK_STRATEGIES.join(', ')}`,
      },
    ],
    run(f) {
      const strategies = parseStrategies(f.str('strategies')!);
      const r = networkSavings({
        monthlyEgressGb: f.num('monthly-egress-gb')!,
        costPerGb: f.num('cost-per-gb') ?? PRICE_CATALOG.egressPerGbUsd,
        strategies,
      });
      return {
        json: { ...r },
        title: 'Network savings: strategies compose on the bytes that remain',
        tables: [
          [
            ['Monthly egress', `${formatNumber(r.monthlyEgressGb)} GB at ${formatUnitPrice(r.costPerGb)}/GB`],
            ['Monthly cost', formatUsd(r.monthlyCost)],
          ],
          [
            ['Strategy', 'Removes', 'GB removed', 'GB left', 'Saves/month'],
            ...r.details.map((d) => [
              d.strategy,
              formatPercent(d.reduction),
              formatNumber(d.gbRemoved),
              formatNumber(d.gbAfter),
              formatUsd(d.monthlySavings),
            ]),
          ],
          [
            ['Monthly savings', formatUsd(r.monthlySavings)],
            ['Monthly cost after', formatUsd(r.monthlyCostAfter)],
            ['Annual savings', formatUsd(r.annualSavings)],
            ['Savings rate', formatPercent(r.savingsRate)],
          ],
        ],
        notes: [
          `Each strategy acts on what the previous ones left; ${SOURCE_CHAPTER} adds each one's share of the full volume.`,
        ],
      };
    },
  },
  {
    name: 'reservation',
    summary: 'reserve or not: break-even from the hourly rate the workload really pays',
    example: 'cost-guard estimate reservation --monthly-on-demand-cost 10000 --monthly-hours-used 500',
    flags: [
      {
        kind: 'number',
        flag: 'monthly-on-demand-cost',
        param: 'monthlyOnDemandCost',
        range: RANGES.nonNegative,
        required: true,
        help: 'what the workload costs on demand a month, $',
      },
      {
        kind: 'number',
        flag: 'monthly-hours-used',
        param: 'monthlyHoursUsed',
        range: RANGES.positive,
        required: true,
        help: 'hours it runs a month (at most --hours-per-month)',
      },
      {
        kind: 'number',
        flag: 'reservation-discount',
        param: 'reservationDiscount',
        range: RANGES.fraction,
        defaultText: '0.4',
        help: 'reservation discount off on-demand',
      },
      {
        kind: 'number',
        flag: 'hours-per-month',
        param: 'hoursPerMonth',
        range: RANGES.hoursPerMonth,
        defaultText: '720',
        help: 'hours a reservation is billed for each month',
      },
      {
        kind: 'number',
        flag: 'term-months',
        param: 'termMonths',
        range: RANGES.wholeMonths,
        defaultText: '12',
        help: 'commitment term, months',
      },
    ],
    run(f) {
      const r = reservationBreakEven({
        monthlyOnDemandCost: f.num('monthly-on-demand-cost')!,
        monthlyHoursUsed: f.num('monthly-hours-used')!,
        reservationDiscount: f.num('reservation-discount'),
        hoursPerMonth: f.num('hours-per-month'),
        termMonths: f.num('term-months'),
      });
      return {
        json: { ...r },
        title: 'Reservation break-even',
        tables: [
          [
            ['On-demand cost a month', formatUsd(r.monthlyOnDemandCost)],
            ['Hours used', `${formatNumber(r.monthlyHoursUsed)} of ${formatNumber(r.hoursPerMonth)}`],
            ['On-demand rate', formatHourly(r.hourlyOnDemandRate)],
            [`Reserved rate (${formatPercent(r.reservationDiscount)} off)`, formatHourly(r.hourlyReservedRate)],
            ['Reserved cost a month (every hour)', formatUsd(r.monthlyReservedCost)],
            ['Utilization', formatPercent(r.utilization)],
            ['Break-even utilization', formatPercent(r.breakEvenUtilization)],
            ['Recommendation', r.recommendation],
            ['Monthly savings', formatUsd(r.monthlySavings)],
            ['Annual savings', formatUsd(r.annualSavings)],
            [`Savings over ${r.termMonths} months`, formatUsd(r.termSavings)],
          ],
        ],
        notes: [
          `A reservation bills every hour of the month; ${SOURCE_CHAPTER} discounts only the hours used and overstates the saving.`,
        ],
      };
    },
  },
  {
    name: 'storage',
    summary: 'S3 lifecycle tiering: steady-state blended $/GB-month of a rule against Standard',
    example: 'cost-guard estimate storage --rule experiment-artifacts --gb 50000',
    details: `Rules: ${DEFAULT_LIFECYCLE_RULES.map((r) => r.id).join(', ')} (the default lifecycle rules).`,
    flags: [
      {
        kind: 'string',
        flag: 'rule',
        defaultText: DEFAULT_LIFECYCLE_RULES[0]!.id,
        help: 'id of a default lifecycle rule',
      },
      {
        kind: 'number',
        flag: 'gb',
        param: 'standardGb',
        range: RANGES.nonNegative,
        help: 'Standard GB in the bucket: also project its monthly cost before and after',
      },
      {
        kind: 'number',
        flag: 'horizon-days',
        param: 'horizonDaysAfterLastTransition',
        range: RANGES.positive,
        defaultText: '365',
        help: 'for a rule without expiration: days followed after the last transition',
      },
    ],
    run(f) {
      const id = f.str('rule') ?? DEFAULT_LIFECYCLE_RULES[0]!.id;
      const rule = DEFAULT_LIFECYCLE_RULES.find((r) => r.id === id);
      if (!rule) {
        throw new UsageError(
          `--rule '${id}' is not a default lifecycle rule; choose one of ${DEFAULT_LIFECYCLE_RULES.map((r) => r.id).join(', ')}`,
        );
      }
      const pricing = createPricing();
      const horizon = f.num('horizon-days');
      const options = horizon === undefined ? {} : { horizonDaysAfterLastTransition: horizon };
      const r = storageTieringSavings(rule, pricing, options);
      const gb = f.num('gb');
      const bucket = gb === undefined ? undefined : projectBucketSavings({ standardGb: gb }, rule, pricing, options);
      const tables: string[][][] = [
        [
          ['Class', 'Days', 'From day', 'To day', 'Billed days', '$/GB-month'],
          ...r.segments.map((s) => [
            s.storageClass,
            String(s.days),
            String(s.fromDay),
            String(s.toDay),
            String(s.billedDays),
            formatUnitPrice(s.gbMonthUsd),
          ]),
        ],
        [
          ['Standard $/GB-month', formatUnitPrice(r.standardGbMonthUsd)],
          ['Blended $/GB-month', formatUnitPrice(r.blendedGbMonthUsd)],
          ['Savings rate', formatPercent(r.savingsRate)],
        ],
      ];
      if (bucket) {
        tables.push([
          ['Standard data', `${formatNumber(bucket.standardGb)} GB`],
          ['Monthly cost before', formatUsd(bucket.monthlyBeforeUsd)],
          ['Monthly cost after', formatUsd(bucket.monthlyAfterUsd)],
          ['Monthly savings', formatUsd(bucket.monthlySavingsUsd)],
          ['Annual savings', formatUsd(bucket.annualSavingsUsd)],
        ]);
      }
      const { tiering: _omit, ...bucketJson } = bucket ?? { tiering: undefined };
      return {
        json: { ...r, ...(bucket ? { bucket: bucketJson } : {}) },
        title: `Storage tiering: rule '${rule.id}' (prefix '${rule.prefix}')`,
        tables,
        notes: [
          ...(r.horizonNote ? [r.horizonNote] : []),
          ...(r.earlyDeletionDays > 0
            ? [`${r.earlyDeletionDays} days of early-deletion charges are included (minimum storage durations).`]
            : []),
          'Classes are weighted by the days an object spends in each; transition requests and retrievals are not priced.',
        ],
      };
    },
  },
  {
    name: 'idle',
    summary: 'what idle GPU time costs a month',
    example: 'cost-guard estimate idle --instance-type g4dn.xlarge --idle-fraction 0.5 --hours-per-month 720',
    details: `Prices: ${PRICE_CATALOG.source}, ${PRICE_CATALOG.asOf}.\n${knownFamilies(createPricing().knownInstanceTypes())}`,
    flags: [
      { kind: 'string', flag: 'instance-type', help: 'instance type priced from the catalog (EC2, or SageMaker ml.*)' },
      {
        kind: 'string',
        flag: 'region',
        defaultText: 'us-east-1',
        help: "region to price --instance-type in (the catalog's figure there, else its us-east-1 figure, said so)",
      },
      {
        kind: 'number',
        flag: 'hourly-usd',
        param: 'hourlyUsd',
        range: RANGES.nonNegative,
        help: 'on-demand $/h instead of --instance-type',
      },
      {
        kind: 'number',
        flag: 'idle-fraction',
        param: 'idleFraction',
        range: RANGES.fraction,
        defaultText: '0.5',
        help: 'share of the month the instance sits idle',
      },
      {
        kind: 'number',
        flag: 'hours-per-month',
        param: 'hoursPerMonth',
        range: RANGES.hoursPerMonth,
        defaultText: '730 (720 with --chapter-prices)',
        help: 'hours in a month',
      },
      {
        kind: 'number',
        flag: 'instances',
        param: 'instances',
        range: RANGES.nonNegative,
        defaultText: '1',
        help: 'number of such instances',
      },
      {
        kind: 'boolean',
        flag: 'chapter-prices',
        help: `price from the table of ${SOURCE_CHAPTER} (p4d.24xlarge $32.77/h, before the 2025 price cut)`,
      },
    ],
    run(f) {
      const instanceType = f.str('instance-type');
      const hourlyUsd = f.num('hourly-usd');
      if (instanceType === undefined && hourlyUsd === undefined) {
        throw new UsageError('give --instance-type or --hourly-usd');
      }
      if (instanceType !== undefined && hourlyUsd !== undefined) {
        throw new UsageError('give --instance-type or --hourly-usd, not both');
      }
      const region = f.str('region');
      const regionProblem = region === undefined ? undefined : regionCodeProblem(region, '--region');
      if (regionProblem) throw new UsageError(regionProblem);
      const chapter = f.bool('chapter-prices');
      const pricing = chapter
        ? createPricing({ hoursPerMonth: SEED_PRICES.hoursPerMonth }, SEED_PRICES)
        : createPricing();
      let r: ReturnType<typeof idleCost>;
      try {
        r = idleCost(
          {
            instanceType,
            hourlyUsd,
            idleFraction: f.num('idle-fraction') ?? 0.5,
            hoursPerMonth: f.num('hours-per-month'),
            instances: f.num('instances'),
            region,
          },
          pricing,
        );
      } catch (error) {
        if (error instanceof UnknownPriceError) throw new UsageError(unknownPriceMessage(error.instanceType, pricing));
        throw error;
      }
      const where = r.priceFallback
        ? `, ${r.priceRegion} (the catalog has no ${r.instanceType} figure for ${region})`
        : r.priceRegion
          ? `, ${r.priceRegion}`
          : '';
      const source =
        r.priceSource === 'input'
          ? '--hourly-usd'
          : chapter
            ? SEED_PRICES.source
            : `${pricing.source}, ${pricing.asOf}${where}`;
      return {
        json: { ...r, priceAsOf: r.priceSource === 'input' ? undefined : pricing.asOf },
        title: `Idle cost${r.instanceType ? ` of ${r.instanceType}` : ''}`,
        tables: [
          [
            ['On-demand rate', formatHourly(r.hourlyUsd)],
            ['Instances', formatNumber(r.instances)],
            ['Hours a month', formatNumber(r.hoursPerMonth)],
            ['Monthly cost (24/7)', formatUsd(r.monthlyCost)],
            [`Idle cost a month (${formatPercent(r.idleFraction)} idle)`, formatUsd(r.monthlyIdleCost)],
            ['Idle cost a year', formatUsd(r.annualIdleCost)],
          ],
        ],
        notes: [`price from ${source}.`],
      };
    },
  },
  {
    name: 'autoscaling',
    summary: 'savings of auto-scaling a fleet provisioned for peak',
    example: 'cost-guard estimate autoscaling --provisioned-instances 10 --average-instances 4 --monthly-cost 7500',
    flags: [
      {
        kind: 'number',
        flag: 'provisioned-instances',
        param: 'provisionedInstances',
        range: RANGES.positive,
        required: true,
        help: 'instances provisioned for peak',
      },
      {
        kind: 'number',
        flag: 'average-instances',
        param: 'averageInstances',
        range: RANGES.nonNegative,
        required: true,
        help: 'average instances running with auto-scaling',
      },
      {
        kind: 'number',
        flag: 'monthly-cost',
        param: 'monthlyCost',
        range: RANGES.nonNegative,
        help: 'monthly cost of the static fleet, $',
      },
      {
        kind: 'number',
        flag: 'hourly-usd',
        param: 'hourlyUsd',
        range: RANGES.nonNegative,
        help: 'on-demand $/h of one instance (instead of --monthly-cost)',
      },
      {
        kind: 'number',
        flag: 'hours-per-month',
        param: 'hoursPerMonth',
        range: RANGES.hoursPerMonth,
        defaultText: '730',
        help: 'hours in a month (with --hourly-usd)',
      },
    ],
    run(f) {
      const monthlyCost = f.num('monthly-cost');
      const hourlyUsd = f.num('hourly-usd');
      if (monthlyCost !== undefined && hourlyUsd !== undefined) {
        throw new UsageError('give --monthly-cost or --hourly-usd, not both');
      }
      const r = autoscalingSavings({
        provisionedInstances: f.num('provisioned-instances')!,
        averageInstances: f.num('average-instances')!,
        monthlyCost,
        hourlyUsd,
        hoursPerMonth: f.num('hours-per-month'),
      });
      const rows: string[][] = [
        ['Provisioned for peak', formatNumber(r.provisionedInstances)],
        ['Average with auto-scaling', formatNumber(r.averageInstances)],
        ['Savings rate', formatPercent(r.savingsRate)],
      ];
      if (r.monthlyCostBefore !== undefined) {
        rows.push(
          ['Monthly cost before', formatUsd(r.monthlyCostBefore)],
          ['Monthly cost after', formatUsd(r.monthlyCostAfter!)],
          ['Monthly savings', formatUsd(r.monthlySavings!)],
          ['Annual savings', formatUsd(r.annualSavings!)],
        );
      }
      return { json: { ...r }, title: 'Auto-scaling savings', tables: [rows], notes: [] };
    },
  },
  {
    name: 'roi',
    summary: 'first-year ROI (net gain over cost) and payback of an optimization program',
    example: 'cost-guard estimate roi --investment 110000 --annual-savings 3780000',
    flags: [
      {
        kind: 'number',
        flag: 'investment',
        param: 'investment',
        range: RANGES.positive,
        required: true,
        help: 'one-off investment, $',
      },
      {
        kind: 'number',
        flag: 'annual-savings',
        param: 'annualSavings',
        range: RANGES.positive,
        required: true,
        help: 'savings a year, $',
      },
      {
        kind: 'number',
        flag: 'days-per-year',
        param: 'daysPerYear',
        range: RANGES.daysPerYear,
        defaultText: '365',
        help: 'days in a year, for the payback in days',
      },
    ],
    run(f) {
      const r = roi({
        investment: f.num('investment')!,
        annualSavings: f.num('annual-savings')!,
        daysPerYear: f.num('days-per-year'),
      });
      return {
        json: { ...r },
        title: 'Return on investment (first year)',
        tables: [
          [
            ['Investment', formatUsd(r.investment)],
            ['Annual savings', formatUsd(r.annualSavings)],
            ['Net gain', formatUsd(r.netGain)],
            ['ROI (net gain / cost)', formatPercent(r.roi)],
            ['Gross return (savings / cost)', formatPercent(r.grossReturn)],
            ['Payback', `${formatNumber(r.paybackDays, 1)} days`],
          ],
        ],
        notes: [`ROI is net gain over cost; the 3,454% of ${SOURCE_CHAPTER} is savings over cost (gross return).`],
      };
    },
  },
];

const STRATEGY_ALIASES: Readonly<Record<string, NetworkStrategy>> = {
  data_locality: 'data_locality',
  'data-locality': 'data_locality',
  locality: 'data_locality',
  compression: 'compression',
  caching: 'caching',
};

function parseStrategies(raw: string): NetworkStrategy[] {
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (names.length === 0) {
    throw new UsageError(`--strategies must list at least one of ${NETWORK_STRATEGIES.join(', ')}; got '${raw}'`);
  }
  return names.map((name) => {
    const strategy = Object.hasOwn(STRATEGY_ALIASES, name) ? STRATEGY_ALIASES[name] : undefined;
    if (!strategy) {
      throw new UsageError(`--strategies: unknown strategy '${name}'; choose from ${NETWORK_STRATEGIES.join(', ')}`);
    }
    return strategy;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Help
// ---------------------------------------------------------------------------------------------------------------

export const ESTIMATE_USAGE = `Usage: cost-guard estimate <calculator> [flags] [--json]

Savings calculators of the savings model (offline, no AWS access). Prices: ${PRICE_CATALOG.source}, as of ${PRICE_CATALOG.asOf}.

Calculators:
${renderTable(
  calculators.map((c) => [c.name, c.summary]),
  ['left', 'left'],
)}

Options:
  --json    print the result as a JSON object (raw, unrounded numbers)
  --help    help for estimate, or for a calculator: cost-guard estimate gpu --help

Example:
  ${calculators[0]!.example} --json`;

function calculatorUsage(c: Calculator): string {
  const flagText = (f: Flag): string => {
    if (f.kind === 'boolean') return `--${f.flag}`;
    return `--${f.flag} ${f.kind === 'number' ? 'N' : 'VALUE'}`;
  };
  const describe = (f: Flag): string => {
    const parts = [f.help];
    if (f.kind === 'number') parts.push(`(${f.range.text})`);
    if (f.kind !== 'boolean' && f.required) parts.push('[required]');
    if (f.kind !== 'boolean' && f.defaultText !== undefined) parts.push(`[default: ${f.defaultText}]`);
    return parts.join(' ');
  };
  const rows = [
    ...c.flags.map((f) => [flagText(f), describe(f)]),
    ['--json', 'print the result as JSON'],
    ['--help', 'this help'],
  ];
  return [
    `Usage: cost-guard estimate ${c.name} [flags] [--json]`,
    '',
    `${c.summary[0]!.toUpperCase()}${c.summary.slice(1)}.`,
    ...(c.details ? [c.details] : []),
    '',
    'Flags:',
    renderTable(rows, ['left', 'left']),
    '',
    'Example:',
    `  ${c.example}`,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// The command
// ---------------------------------------------------------------------------------------------------------------

function parseFlags(c: Calculator, argv: string[], usage: string): { flags: Flags; json: boolean; help: boolean } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  };
  for (const f of c.flags) options[f.flag] = { type: f.kind === 'boolean' ? 'boolean' : 'string' };
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as typeof values;
  } catch (error) {
    throw new UsageError(argsErrorMessage(error, options), usage, { cause: error });
  }
  const help = values['help'] === true;
  const numbers = new Map<string, number>();
  if (!help) {
    for (const f of c.flags) {
      if (f.kind === 'boolean') continue;
      const raw = values[f.flag];
      if (raw === undefined) {
        if (f.required) {
          const what = f.kind === 'number' ? ` (${f.range.text})` : '';
          throw new UsageError(`--${f.flag} is required${what}`, usage);
        }
        continue;
      }
      if (typeof raw !== 'string') continue;
      if (f.kind === 'string' && raw.trim() === '') throw new UsageError(`--${f.flag} must not be empty`, usage);
      if (f.kind === 'number') {
        try {
          numbers.set(f.flag, parseNumber(f, raw));
        } catch (error) {
          if (error instanceof UsageError) throw new UsageError(error.message, usage);
          throw error;
        }
      }
    }
  }
  const flags: Flags = {
    num: (flag) => numbers.get(flag),
    str: (flag) => {
      const v = values[flag];
      return typeof v === 'string' ? v.trim() : undefined;
    },
    bool: (flag) => values[flag] === true,
  };
  return { flags, json: values['json'] === true, help };
}

/** Turns a calculator's rejection of an input into a usage error naming the flag that supplied it. */
function asUsageError(c: Calculator, error: SavingsInputError, argv: readonly string[], usage: string): UsageError {
  const flag = c.flags.find((f) => f.kind !== 'boolean' && f.param === error.parameter);
  if (!flag) return new UsageError(error.message, usage);
  const raw = rawValue(argv, flag.flag) ?? String(error.value);
  return new UsageError(`--${flag.flag} must be ${error.allowed}; got '${raw}'`, usage);
}

function rawValue(argv: readonly string[], flag: string): string | undefined {
  let value: string | undefined;
  argv.forEach((arg, i) => {
    if (arg === `--${flag}`) value = argv[i + 1];
    else if (arg.startsWith(`--${flag}=`)) value = arg.slice(flag.length + 3);
  });
  return value;
}

function render(output: Output): string {
  const blocks = [output.title, ...output.tables.map((t) => renderTable(t))];
  if (output.notes.length > 0) blocks.push(output.notes.map((n) => `Note: ${n}`).join('\n'));
  return blocks.join('\n\n');
}

/**
 * `cost-guard estimate <calculator> [flags] [--json]`. `argv` is what follows `estimate`. Returns the exit code
 * (0); bad or missing flags throw UsageError, which the CLI prints with the calculator's usage (exit 2).
 */
export async function estimateCommand(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    const target = name === 'help' ? calculators.find((c) => c.name === rest[0]) : undefined;
    io.out(target ? calculatorUsage(target) : ESTIMATE_USAGE);
    return EXIT.ok;
  }
  const names = calculators.map((c) => c.name).join(', ');
  if (name === undefined) throw new UsageError(`name a calculator: ${names}`, ESTIMATE_USAGE);
  if (name.startsWith('-')) {
    throw new UsageError(`name a calculator before the flags (${names}); got '${name}'`, ESTIMATE_USAGE);
  }
  const calculator = calculators.find((c) => c.name === name);
  if (!calculator) {
    const near = closestName(
      name,
      calculators.map((c) => c.name),
    );
    throw new UsageError(
      `unknown calculator '${name}'; ${near ? `did you mean ${near}? ` : ''}choose one of ${names}`,
      ESTIMATE_USAGE,
    );
  }

  const usage = calculatorUsage(calculator);
  const { flags, json, help } = parseFlags(calculator, rest, usage);
  if (help) {
    io.out(usage);
    return EXIT.ok;
  }
  let output: Output;
  try {
    output = calculator.run(flags);
  } catch (error) {
    if (error instanceof SavingsInputError) throw asUsageError(calculator, error, rest, usage);
    if (error instanceof UsageError && error.usage === undefined) throw new UsageError(error.message, usage);
    throw error;
  }
  io.out(json ? JSON.stringify({ calculator: calculator.name, ...output.json }, null, 2) : render(output));
  return EXIT.ok;
}
