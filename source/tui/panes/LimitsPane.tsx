/**
 * Limits pane: every limit of the selected container beside its live use (gauges against the
 * limit, the last minute as sparklines), editable in place: type a value or step it with +/-,
 * Enter applies it to the running container, a refused value says why and the old one stays.
 */
import { Box, Text } from 'ink';
import React, { memo } from 'react';
import type { Resources } from '../../runtime/cgroups/types.js';
import { Chart, limitChanges } from '../components/Chart.js';
import { Gauge } from '../components/Gauge.js';
import { Sparkline, sparkScale } from '../components/Sparkline.js';
import { TextField } from '../components/TextField.js';
import { useTui } from '../context.js';
import { useTuiState } from '../hooks/use-tui-state.js';
import { formatMemory, formatCpuTime, formatPercent, formatRate, truncate } from '../format.js';
import { paneHeight } from '../state/layout.js';
import { LIMITS, limitDefinition, loosening, type LimitDefinition } from '../state/limit-definitions.js';
import { limitsContainer } from '../state/limits.js';
import { isActive } from '../state/selectors.js';
import type { LimitEdit, StatsSeries, TuiState } from '../state/types.js';
import { levelColor, type Theme } from '../theme.js';
import { statusText, uptime, usernsText } from './container-cells.js';

const selectContainer = (state: TuiState) => limitsContainer(state);
const selectLimits = (state: TuiState) => state.limits;
const selectSize = (state: TuiState) => state.ui.size;
const selectSeries = (state: TuiState) =>
  state.containers.selectedId ? state.stats.byId[state.containers.selectedId] : undefined;
const selectNow = (state: TuiState) => state.ui.now;
const selectPending = (state: TuiState) => state.ui.pending;

export interface LiveFigure {
  /** Gauge fill against the limit; undefined draws no gauge. */
  ratio?: number | undefined;
  text: string;
  history?: readonly number[] | undefined;
  /** The limit in force at each point of `history`, its scale; else `historyMax`. */
  historyLimits?: readonly (number | undefined)[] | undefined;
  historyMax?: number | undefined;
  /** How the sparkline's own top is written when it has no limit to be drawn against. */
  historyFormat?: ((value: number) => string) | undefined;
}

/** What each limit is measured against, from the latest sample. */
export function liveFigure(
  definition: LimitDefinition,
  resources: Resources,
  series: StatsSeries | undefined,
): LiveFigure {
  if (!series) return { text: '' };
  switch (definition.key) {
    case 'memory': {
      const limit = series.memoryLimit;
      const used = series.memoryUsage;
      return {
        ratio: limit && used !== undefined ? used / limit : undefined,
        text: `${formatMemory(used)} used${limit && used !== undefined ? ` ${formatPercent((used / limit) * 100)}` : ''}`,
        history: series.history.memory,
        historyLimits: series.history.memoryLimit,
        historyFormat: formatMemory,
      };
    }
    case 'memoryReservation': {
      const reservation =
        resources.memoryReservation && resources.memoryReservation > 0
          ? resources.memoryReservation
          : undefined;
      const used = series.memoryUsage;
      return {
        ratio: reservation && used !== undefined ? used / reservation : undefined,
        text: reservation ? `${formatMemory(used)} of it` : 'soft limit unset',
      };
    }
    case 'memorySwap':
      return { text: `swap ${formatMemory(series.swapUsage ?? 0)} used` };
    case 'cpus':
      return {
        ratio: series.cpuQuotaPercent !== undefined ? series.cpuQuotaPercent / 100 : undefined,
        text: series.quotaCpus
          ? `${formatPercent(series.cpuPercent)} of ${formatPercent(series.quotaCpus * 100)}`
          : `${formatPercent(series.cpuPercent)} cpu`,
        history: series.history.cpu,
        historyLimits: series.history.cpuLimit,
        // Without a quota the scale is the host: every CPU busy.
        historyMax: series.raw.onlineCpus * 100,
        historyFormat: formatPercent,
      };
    case 'cpuShares':
      return {
        text: `throttled ${series.throttledMsPerSecond === undefined ? '-' : `${series.throttledMsPerSecond.toFixed(1)}ms/s`}`,
        history: series.history.throttled,
        historyFormat: (value) => `${value.toFixed(1)}ms/s`,
      };
    case 'cpusetCpus':
      return { text: `cpu time ${formatCpuTime(series.raw.cgroup.cpu?.usageNanos)}` };
    case 'pidsLimit':
      return {
        ratio: series.pidsLimit && series.pids !== undefined ? series.pids / series.pidsLimit : undefined,
        text: series.pids === 1 ? '1 process' : `${series.pids ?? '-'} processes`,
        history: series.history.pids,
        historyMax: series.pidsLimit,
        historyFormat: String,
      };
    case 'blkioWeight':
      return {
        text: `${series.raw.cgroup.io?.readOps ?? 0} reads, ${series.raw.cgroup.io?.writeOps ?? 0} writes`,
      };
    case 'ioRead':
      return {
        text: `read ${formatRate(series.ioReadRate)}`,
        history: series.history.ioRead,
        historyFormat: formatRate,
      };
    case 'ioWrite':
      return {
        text: `write ${formatRate(series.ioWriteRate)}`,
        history: series.history.ioWrite,
        historyFormat: formatRate,
      };
    case 'netClass':
      // The class marks what the container sends: its egress rate is the figure beside it.
      return {
        text: `rx ${formatRate(series.netRxRate)} tx ${formatRate(series.netTxRate)}`,
        history: series.history.netTx,
        historyFormat: formatRate,
      };
  }
}

interface LimitRowProps {
  definition: LimitDefinition;
  resources: Resources;
  value: string;
  figure: LiveFigure;
  selected: boolean;
  edit: LimitEdit | undefined;
  width: number;
  theme: Theme;
}

const LABEL = 12;
const VALUE = 14;

/** The line under a limit being edited: the refusal, a big loosening, or what may be typed. */
export function editLine(
  definition: LimitDefinition,
  resources: Resources,
  edit: LimitEdit,
): { text: string; tone: 'bad' | 'warn' | 'dim' } {
  if (edit.error)
    return {
      // Runtime refusals often say already that the old value stays.
      text: `✖ ${edit.error}${/\bstays\b/.test(edit.error) ? '' : '; the old value stays'}`,
      tone: 'bad',
    };
  if (edit.applying) return { text: 'applying…', tone: 'dim' };
  const looser = loosening(definition, edit.text, resources);
  if (looser) {
    const how = Number.isFinite(looser.ratio) ? `${Math.round(looser.ratio)}x looser` : 'no limit at all';
    return {
      text: `! ${definition.label} ${looser.before} → ${looser.after}: ${how}; Enter applies, Esc cancels`,
      tone: 'warn',
    };
  }
  const keys = edit.mode === 'stepping' ? '+/- step, or type' : '↑/↓ step';
  return {
    text: `Enter applies (${definition.flag}), Esc cancels, ${keys}; ${definition.hint}`,
    tone: 'dim',
  };
}

/** Rows the edit line takes at this width (it wraps, indented). */
export function editLineRows(text: string, columns: number): number {
  return Math.max(1, Math.ceil(text.length / Math.max(10, columns - 3)));
}

function EditLine({ line, theme }: { line: ReturnType<typeof editLine>; theme: Theme }) {
  // Indented as a block, so a second line stays under the first.
  return (
    <Box paddingLeft={3}>
      <Text
        color={line.tone === 'bad' ? theme.bad : line.tone === 'warn' ? theme.warn : undefined}
        bold={line.tone === 'warn'}
        dimColor={line.tone === 'dim'}
        wrap="wrap"
      >
        {line.text}
      </Text>
    </Box>
  );
}

/** A limit's history, against the limit of each point's time, or labelled with its own top. */
function FigureSparkline({ figure, width, theme }: { figure: LiveFigure; width: number; theme: Theme }) {
  const values = figure.history ?? [];
  const scale = sparkScale(values, width, figure.historyLimits, figure.historyMax);
  const label =
    scale.labelled && scale.max !== undefined && figure.historyFormat
      ? ` ≤${figure.historyFormat(scale.max)}`
      : '';
  const room = label && width - label.length >= 4 ? width - label.length : width;
  return (
    <Text>
      <Sparkline values={values} width={room} max={scale.max} color={theme.accent} />
      {room < width ? <Text dimColor>{label}</Text> : null}
    </Text>
  );
}

const LimitRow = memo(function LimitRow({
  definition,
  resources,
  value,
  figure,
  selected,
  edit,
  width,
  theme,
}: LimitRowProps) {
  const gaugeWidth = width >= 100 ? 20 : width >= 80 ? 12 : 8;
  const textWidth = width >= 100 ? 24 : 20;
  const sparkWidth = Math.max(0, width - 2 - LABEL - 1 - VALUE - 1 - gaugeWidth - 1 - textWidth - 2);
  const editing = edit !== undefined;
  return (
    <Box flexDirection="column" flexShrink={0}>
      <Text wrap="truncate-end">
        <Text inverse={selected && !editing} bold={selected}>
          {`${selected ? '›' : ' '} ${definition.label.padEnd(LABEL)}`}
        </Text>
        {editing ? (
          <Text>
            <TextField
              value={edit.text}
              focused={!edit.applying}
              selected={edit.selected}
              width={VALUE}
              placeholder="unlimited"
            />
            {' '.repeat(Math.max(0, VALUE - Math.min(VALUE, edit.text.length + 1)))}
          </Text>
        ) : (
          <Text dimColor={!definition.editable} bold={selected}>
            {truncate(value, VALUE).padEnd(VALUE)}
          </Text>
        )}{' '}
        {figure.ratio !== undefined ? (
          <Gauge ratio={figure.ratio} width={gaugeWidth} color={levelColor(theme, figure.ratio)} />
        ) : (
          <Text>{' '.repeat(gaugeWidth)}</Text>
        )}
        <Text>{` ${truncate(figure.text, textWidth).padEnd(textWidth)} `}</Text>
        {figure.history && sparkWidth >= 4 ? (
          <FigureSparkline figure={figure} width={sparkWidth} theme={theme} />
        ) : null}
      </Text>
      {editing ? <EditLine line={editLine(definition, resources, edit)} theme={theme} /> : null}
    </Box>
  );
});

/**
 * How a chart's history is scaled and captioned: the top is the highest limit (or value) in the
 * window, so every point keeps its place beside the limit of its time, and the caption says
 * when the limit last changed.
 */
export function chartScale(
  values: readonly number[],
  limits: readonly (number | undefined)[],
  width: number,
  secondsPerPoint: number,
  format: (value: number) => string,
  floor = 1,
): { max: number; caption: string } {
  const shown = values.slice(-width);
  const shownLimits = limits.slice(-width);
  const setLimits = shownLimits.filter((limit): limit is number => limit !== undefined);
  const highest = Math.max(floor, ...shown);
  const max = setLimits.length > 0 ? Math.max(...setLimits, highest) : highest * 1.25;
  const changes = limitChanges(shownLimits);
  const last = changes.at(-1);
  const current = shownLimits.at(-1);
  let caption =
    setLimits.length === 0
      ? `top ${format(max)}, no limit`
      : current === undefined
        ? `┈ limit (none now), top ${format(max)}`
        : `┈ limit ${format(current)}${max > current ? `, top ${format(max)}` : ''}`;
  if (last !== undefined) {
    const before = shownLimits[last - 1];
    const after = shownLimits[last];
    const ago = Math.round((shownLimits.length - last) * secondsPerPoint);
    caption += ` · ┊ ${before === undefined ? 'none' : format(before)}→${after === undefined ? 'none' : format(after)} ${ago}s ago`;
  }
  return { max, caption };
}

/** Memory against its limit and CPU against its quota, over the last minutes. */
function Charts({ series, width, height }: { series: StatsSeries; width: number; height: number }) {
  const { theme, statsIntervalMs } = useTui();
  const chartWidth = Math.max(10, Math.floor((width - 6) / 2) - 2);
  const seconds = statsIntervalMs / 1000;
  const memory = chartScale(
    series.history.memory,
    series.history.memoryLimit,
    chartWidth,
    seconds,
    formatMemory,
  );
  const cpu = chartScale(
    series.history.cpu,
    series.history.cpuLimit,
    chartWidth,
    seconds,
    formatPercent,
    100,
  );
  const memoryRatio =
    series.memoryLimit && series.memoryUsage !== undefined
      ? series.memoryUsage / series.memoryLimit
      : undefined;
  const cpuRatio = series.cpuQuotaPercent !== undefined ? series.cpuQuotaPercent / 100 : undefined;
  return (
    <Box marginTop={1} paddingLeft={1} gap={2}>
      <Chart
        title="memory"
        current={`${formatMemory(series.memoryUsage)}${series.memoryLimit ? ` of ${formatMemory(series.memoryLimit)}` : ''}`}
        values={series.history.memory}
        limits={series.history.memoryLimit}
        width={chartWidth}
        height={height}
        max={memory.max}
        color={levelColor(theme, memoryRatio)}
        scale={memory.caption}
      />
      <Chart
        title="cpu"
        current={
          series.quotaCpus
            ? `${formatPercent(series.cpuPercent)} of ${formatPercent(series.quotaCpus * 100)} quota`
            : formatPercent(series.cpuPercent)
        }
        values={series.history.cpu}
        limits={series.history.cpuLimit}
        width={chartWidth}
        height={height}
        max={cpu.max}
        color={levelColor(theme, cpuRatio)}
        scale={cpu.caption}
      />
    </Box>
  );
}

export function LimitsPane() {
  const { theme } = useTui();
  const container = useTuiState(selectContainer);
  const limits = useTuiState(selectLimits);
  const size = useTuiState(selectSize);
  const series = useTuiState(selectSeries);
  const now = useTuiState(selectNow);
  const pending = useTuiState(selectPending);
  if (limits.removed) {
    return (
      <Box flexDirection="column" paddingX={1}>
        <Text color={theme.bad} bold>{`${limits.removed.name} was removed by another process.`}</Text>
        {limits.removed.droppedEdit ? (
          <Text>{`The edit of ${limits.removed.droppedEdit} was not applied, to it or to any other container.`}</Text>
        ) : null}
        <Text dimColor>Choose a container in Containers (1) and come back with 4 or Enter.</Text>
      </Box>
    );
  }
  if (!container) {
    return (
      <Box flexDirection="column" paddingX={1}>
        <Text>No container selected.</Text>
        <Text dimColor>Select one in Containers (1) and come back with 4 or Enter.</Text>
      </Box>
    );
  }
  const resources = container.HostConfig.Resources;
  const status = statusText(container, pending[container.Id], theme);
  const active = isActive(container);
  const up = uptime(container, now);
  const height = paneHeight(size);
  // The edit line (two when it explains a refusal) goes under its row.
  const editRows = limits.edit
    ? editLineRows(editLine(limitDefinition(limits.edit.key), resources, limits.edit).text, size.columns)
    : 0;
  // On a short terminal the rows scroll with the cursor rather than being squeezed together.
  const fit = Math.max(1, Math.min(LIMITS.length, height - 2 - editRows));
  const first = Math.max(0, Math.min(limits.cursor - Math.floor(fit / 2), LIMITS.length - fit));
  const used = 2 + fit + editRows;
  const room = height - used;
  const throttled = series?.throttledMsPerSecond;
  const oomKills = series?.oomKills ?? 0;
  const userns = usernsText(container);
  return (
    <Box flexDirection="column" height={height} overflow="hidden">
      <Text wrap="truncate-end">
        {' Limits of '}
        <Text bold>{container.Name}</Text>
        {'  '}
        <Text color={status.color}>{status.text}</Text>
        {up ? <Text dimColor>{` up ${up}`}</Text> : null}
        {userns ? <Text>{`  ${userns}`}</Text> : null}
        <Text dimColor>
          {active
            ? '   changes apply to the running container'
            : '   not running: the values apply from the next start'}
        </Text>
      </Text>
      <Text bold wrap="truncate-end">{`  ${'LIMIT'.padEnd(LABEL)}${'VALUE'.padEnd(VALUE)} LIVE`}</Text>
      {LIMITS.slice(first, first + fit).map((definition, offset) => (
        <LimitRow
          key={definition.key}
          definition={definition}
          resources={resources}
          value={definition.display(resources)}
          figure={active ? liveFigure(definition, resources, series) : { text: '' }}
          selected={first + offset === limits.cursor}
          edit={limits.edit?.key === definition.key ? limits.edit : undefined}
          width={size.columns}
          theme={theme}
        />
      ))}
      {/* The charts take the rest of the height, however tall the terminal. */}
      {room >= 10 && active && series ? (
        <Charts series={series} width={size.columns} height={room - 6} />
      ) : null}
      {room >= 2 && active ? (
        <Box flexDirection="column" marginTop={room >= 3 && room < 10 ? 1 : 0}>
          <Text wrap="truncate-end">
            {' throttled '}
            <Text color={throttled && throttled > 0 ? theme.warn : undefined}>
              {throttled === undefined ? '-' : `${throttled.toFixed(1)} ms/s`}
            </Text>
            <Text
              dimColor
            >{` (${series?.throttledPeriods ?? 0} periods, ${formatCpuTime(series?.throttledNanos)} total)`}</Text>
            {'   oom kills '}
            <Text bold color={oomKills > 0 ? theme.bad : undefined}>
              {String(oomKills)}
            </Text>
            {container.State.OOMKilled ? <Text color={theme.bad}> (last run was OOM-killed)</Text> : null}
          </Text>
          {series ? null : <Text dimColor> sampling…</Text>}
        </Box>
      ) : null}
    </Box>
  );
}
