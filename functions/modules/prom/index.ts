export const PROM_MODULES = [] as const;
