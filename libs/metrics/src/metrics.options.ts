/** Options of `MetricsModule`. */
export interface MetricsModuleOptions {
  /**
   * When set, `GET /metrics` requires `Authorization: Bearer <token>`.
   * @default undefined (open, as Prometheus scrapers usually expect inside a cluster)
   */
  token?: string;
}
