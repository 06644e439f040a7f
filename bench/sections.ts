/** The benchmark sections, in the order `npm run bench` runs them. */
export interface BenchSection {
  name: string;
  title: string;
  run(): Promise<void>;
}

export const SECTIONS: BenchSection[] = [];
