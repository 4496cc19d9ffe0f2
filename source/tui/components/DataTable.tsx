/**
 * The tables of the Containers and Images panes, on @alcalzone/ink-table. Its Table keeps the
 * configuration (cell, header and skeleton components, padding) and draws the heading; this
 * subclass changes what a full-screen pane needs: no box lines between rows (a row per line),
 * padding 0, cells fitted to the terminal beforehand, the selected row in inverse video, and each
 * data row drawn as one line of text (one layout node instead of one per cell).
 *
 * Each row reads its own cells from the store, so a stats tick re-renders only the rows whose
 * text changed, and none when nothing visible changed.
 */
import { Table, type CellProps } from '@alcalzone/ink-table';
import { Box, Text } from 'ink';
import React, { createContext, memo, useCallback, useContext, useMemo, type PropsWithChildren } from 'react';
import { useTui } from '../context.js';
import { useTuiStateWith } from '../hooks/use-tui-state.js';
import type { TuiState } from '../state/types.js';
import type { Theme } from '../theme.js';
import { fitCell, type FittedColumn } from './column-fit.js';

export interface TableRow {
  /** Stable identity (container or image id). */
  key: string;
  /** Cell text by column key. */
  cells: Readonly<Record<string, string>>;
  /** Colour of a cell's text by column key. */
  colors?: Readonly<Record<string, string | undefined>>;
  dim?: boolean;
}

interface RowStyle {
  selected: boolean;
  heading: boolean;
  dim: boolean;
  /** Colour by column index. */
  colors: readonly (string | undefined)[];
}

const RowStyleContext = createContext<RowStyle>({ selected: false, heading: false, dim: false, colors: [] });

function Heading({ children }: PropsWithChildren) {
  return <Text bold>{children}</Text>;
}

function Cell({ column, children }: CellProps) {
  const style = useContext(RowStyleContext);
  if (style.heading) return <Heading>{children}</Heading>;
  return (
    // The selected row is one plain inverse bar: a coloured cell inverted would break it up.
    <Text
      inverse={style.selected}
      dimColor={style.dim && !style.selected}
      color={style.selected ? undefined : style.colors[column]}
    >
      {children}
    </Text>
  );
}

/** Column lines become spaces: a pane's table reads like `docker ps`, and a highlighted row stays one bar. */
function Skeleton({ children }: PropsWithChildren) {
  const style = useContext(RowStyleContext);
  const text = String(children ?? '').replace(/[│┼├┤┌┐└┘┬┴─]/g, ' ');
  return <Text inverse={style.selected}>{text}</Text>;
}

type Scalars = Record<string, string>;
type RowProps = Parameters<Table<Scalars>['data']>[0];

class PaneTable extends Table<Scalars> {
  /** ink-table forces a padding of at least 1; a fitted table wants 0. */
  override getConfig() {
    const config = super.getConfig();
    return { ...config, padding: this.props.padding ?? 0, cell: Cell, header: Heading, skeleton: Skeleton };
  }

  /**
   * A data row as nested text: the same cells and separators as ink-table draws, in as few layout
   * nodes as possible. Cells with characters beyond ASCII (status symbols, ellipses) get a text
   * node of their own, because measuring a line that has any costs Ink a grapheme segmentation
   * of the whole line, and the table is redrawn whenever a figure changes.
   */
  override data = (props: RowProps) => {
    const { cell: CellComponent, skeleton: SkeletonComponent } = this.getConfig();
    const segments: React.JSX.Element[][] = [[<SkeletonComponent key="left">│</SkeletonComponent>]];
    props.columns.forEach((column, index) => {
      const text = String(props.data[column.column] ?? '').padEnd(column.width);
      const cell = (
        <CellComponent key={`cell-${index}`} column={index}>
          {text}
        </CellComponent>
      );
      if (index > 0) segments.at(-1)!.push(<SkeletonComponent key={`cross-${index}`}>│</SkeletonComponent>);
      if (/^[\u0020-\u007e]*$/.test(text)) segments.at(-1)!.push(cell);
      else segments.push([cell], []);
    });
    segments.at(-1)!.push(<SkeletonComponent key="right">│</SkeletonComponent>);
    const nonEmpty = segments.filter((segment) => segment.length > 0);
    if (nonEmpty.length === 1) return <Text key={props.key}>{nonEmpty[0]}</Text>;
    return (
      <Box key={props.key}>
        {nonEmpty.map((segment, index) => (
          <Text key={index}>{segment}</Text>
        ))}
      </Box>
    );
  };
}

function rowsEqual(a: TableRow | undefined, b: TableRow | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.key !== b.key || a.dim !== b.dim) return false;
  const keys = new Set([
    ...Object.keys(a.cells),
    ...Object.keys(b.cells),
    ...Object.keys(a.colors ?? {}),
    ...Object.keys(b.colors ?? {}),
  ]);
  for (const key of keys)
    if (a.cells[key] !== b.cells[key] || a.colors?.[key] !== b.colors?.[key]) return false;
  return true;
}

/** Reads a row from the store: container cells, image cells. Must be a stable function. */
export type RowSelector = (state: TuiState, key: string, theme: Theme) => TableRow | undefined;

interface DataRowProps {
  rowKey: string;
  selected: boolean;
  table: PaneTable;
  columns: readonly FittedColumn[];
  selectRow: RowSelector;
}

const DataRow = memo(function DataRow({ rowKey, selected, table, columns, selectRow }: DataRowProps) {
  const { theme } = useTui();
  const select = useCallback(
    (state: TuiState) => selectRow(state, rowKey, theme),
    [selectRow, rowKey, theme],
  );
  const row = useTuiStateWith(select, rowsEqual);
  if (!row) return null;
  const data = Object.fromEntries(
    columns.map((column) => [column.title, fitCell(row.cells[column.key] ?? '', column.width, column.align)]),
  );
  const style: RowStyle = {
    selected,
    heading: false,
    dim: row.dim ?? false,
    colors: columns.map((column) => row.colors?.[column.key]),
  };
  const tableColumns = columns.map((column) => ({
    key: column.title,
    column: column.title,
    width: column.width,
    align: 'left' as const,
  }));
  return (
    <RowStyleContext.Provider value={style}>
      {table.data({ key: 'row', columns: tableColumns, data })}
    </RowStyleContext.Provider>
  );
});

export interface DataTableProps {
  /** Columns already fitted to the width (see fitColumns). */
  columns: readonly FittedColumn[];
  /** Keys of the rows in view (the caller windows long lists). */
  rowKeys: readonly string[];
  /** Key of the selected row. */
  selectedKey: string | undefined;
  selectRow: RowSelector;
  /** Shown instead of rows when there are none. */
  empty?: string;
}

export function DataTable({ columns, rowKeys, selectedKey, selectRow, empty }: DataTableProps) {
  const headings = useMemo(
    () =>
      Object.fromEntries(
        columns.map((column) => [column.title, fitCell(column.title, column.width, column.align)]),
      ),
    [columns],
  );
  // One table per column layout: its row builders only depend on the configuration.
  const table = useMemo(
    () => new PaneTable({ data: [headings], columns: columns.map((column) => column.title) }),
    [headings, columns],
  );
  return (
    <Box flexDirection="column">
      <RowStyleContext.Provider value={{ selected: false, heading: true, dim: false, colors: [] }}>
        {table.heading({ key: 'heading', columns: table.getColumns(), data: headings })}
      </RowStyleContext.Provider>
      {rowKeys.length === 0 && empty ? (
        <Text dimColor> {empty}</Text>
      ) : (
        rowKeys.map((key) => (
          <DataRow
            key={key}
            rowKey={key}
            selected={key === selectedKey}
            table={table}
            columns={columns}
            selectRow={selectRow}
          />
        ))
      )}
    </Box>
  );
}
