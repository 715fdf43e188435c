import { GoStruct, stringSlice, type GoValue } from "./values.js";

/**
 * The dot of every template: one allocation (SPEC §12). Field names are the ones templates
 * write (`.WorkerIP`), and their order is the Go struct's, which `{{.}}` and %v print in.
 */
export interface TemplateData {
  WorkerIP: string;
  WorkerID: string;
  Job: string;
  AllocationID: string;
  AllocationIndex: number;
  CurrentVersion: string;
  NewVersion: string;
  Labels: readonly string[];
  BucketPath: string;
  JobPath: string;
}

/** Go's type name for the dot, as error messages and %T show it. */
export const DATA_TYPE_NAME = "main.Data";

/** The Go struct value of the dot, field by field in declaration order. */
export function dataFields(d: TemplateData): [string, GoValue][] {
  return [
    ["WorkerIP", d.WorkerIP],
    ["WorkerID", d.WorkerID],
    ["Job", d.Job],
    ["AllocationID", d.AllocationID],
    ["AllocationIndex", BigInt(d.AllocationIndex)],
    ["CurrentVersion", d.CurrentVersion],
    ["NewVersion", d.NewVersion],
    ["Labels", stringSlice(d.Labels)],
    ["BucketPath", d.BucketPath],
    ["JobPath", d.JobPath],
  ];
}

export function dataValue(d: TemplateData): GoStruct {
  return new GoStruct(DATA_TYPE_NAME, new Map(dataFields(d)));
}
