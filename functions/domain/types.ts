/** Any JSON value, as template parameters and step outputs can be. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };
export type StringMap = Record<string, string>;
